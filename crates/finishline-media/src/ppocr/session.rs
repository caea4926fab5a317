//! ONNX Runtime set-up for the PP-OCR engine: where the files are, loading `libonnxruntime`
//! once per process, and a small pool of single-threaded sessions per model.
//!
//! ONNX Runtime allows one environment per process (`ort` refuses a second one), so the
//! environment lives in a process-wide slot created by the first engine; every later engine
//! shares it. Each session runs on one intra-op thread: the worker parallelises over photos,
//! and a session is taken from the pool for one run, so N photos in parallel use N sessions.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::MediaError;

/// File name of the PP-OCRv4 text detection model inside the models folder.
pub const DETECTION_MODEL: &str = "ch_PP-OCRv4_det_infer.onnx";
/// The same detector quantized to 8 bits at install time (`deploy/local/quantize_detector.py`).
pub const DETECTION_MODEL_INT8: &str = "ch_PP-OCRv4_det_infer.int8.onnx";

/// Which text detector runs: the published float model, or its int8 quantization (default).
///
/// The int8 detector costs ~35% less CPU per photo (its convolutions run on the CPU's integer
/// units) and, on the tuning split, found more bibs and a few more signs than the float one;
/// docs/recognition-held-out.md ("Held-out figures of the int8 detector") has the held-out
/// figures of both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detector {
    #[default]
    Int8,
    Fp32,
}

impl std::str::FromStr for Detector {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "int8" => Ok(Self::Int8),
            "fp32" => Ok(Self::Fp32),
            other => Err(format!("unknown detector `{other}`; expected int8 or fp32")),
        }
    }
}
/// File name of the bib reader inside the models folder: PP-OCRv6's small text recognition
/// model (from the rapidocr 3.10.0 wheel; its character list is in the model's metadata) with
/// the fine-tuned weight delta of `deploy/local/reader/` applied by `install-models.sh`.
pub const RECOGNITION_MODEL: &str = "PP-OCRv6_rec_small.bibs.onnx";
/// File name of the ONNX Runtime library inside the models folder.
pub const ONNXRUNTIME_LIBRARY: &str = "libonnxruntime.so.1.32.0";

/// The command that installs the models and the library.
pub const INSTALL_HINT: &str =
    "run deploy/local/install-deps.sh (or deploy/local/install-models.sh) to install them";

/// Where the engine's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpOcrConfig {
    /// Folder holding the two `.onnx` models (and, by default, the library).
    pub models_dir: PathBuf,
    /// The ONNX Runtime shared library; default: `<models_dir>/libonnxruntime.so.1.32.0`.
    pub onnxruntime_library: Option<PathBuf>,
    /// Which text detector runs.
    pub detector: Detector,
}

impl PpOcrConfig {
    /// The files under `models_dir`, with the library found there too.
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: models_dir.into(),
            onnxruntime_library: None,
            detector: Detector::default(),
        }
    }

    pub fn detection_model(&self) -> PathBuf {
        self.models_dir.join(match self.detector {
            Detector::Int8 => DETECTION_MODEL_INT8,
            Detector::Fp32 => DETECTION_MODEL,
        })
    }

    pub fn recognition_model(&self) -> PathBuf {
        self.models_dir.join(RECOGNITION_MODEL)
    }

    pub fn person_model(&self) -> PathBuf {
        self.models_dir.join(super::person::PERSON_MODEL)
    }

    pub fn library(&self) -> PathBuf {
        self.onnxruntime_library
            .clone()
            .unwrap_or_else(|| self.models_dir.join(ONNXRUNTIME_LIBRARY))
    }

    /// Fails with a message naming the first missing file and the command that installs it.
    pub(crate) fn check_files(&self) -> Result<(), MediaError> {
        for path in [
            self.detection_model(),
            self.recognition_model(),
            self.person_model(),
            self.library(),
        ] {
            if !path.is_file() {
                return Err(MediaError::EngineUnavailable(format!(
                    "ppocr: {} is missing; {INSTALL_HINT}",
                    path.display()
                )));
            }
        }
        Ok(())
    }
}

/// The process-wide ONNX Runtime environment (see the module comment for why it is global).
static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

/// The environment, loading the library from `library` the first time.
fn environment(library: &Path) -> Result<Environment, MediaError> {
    let mut slot = ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(environment) = slot.as_ref() {
        return Ok(environment.clone());
    }
    let environment = ort::init_from(library)
        .map_err(|err| {
            MediaError::EngineUnavailable(format!(
                "ppocr: cannot load ONNX Runtime from {}: {err}; {INSTALL_HINT}",
                library.display()
            ))
        })?
        .with_name("finishline")
        .with_telemetry(false)
        .build()
        .map_err(|err| {
            MediaError::EngineUnavailable(format!("ppocr: cannot start ONNX Runtime: {err}"))
        })?;
    *slot = Some(environment.clone());
    Ok(environment)
}

/// Where a model comes from: a file in the models folder, or bytes built into this crate.
enum Model {
    File(PathBuf),
    Embedded {
        name: &'static str,
        bytes: &'static [u8],
    },
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Embedded { name, .. } => write!(f, "{name} (built in)"),
        }
    }
}

/// Sessions of one model; a run takes one (creating it when none is idle) and gives it back.
pub(crate) struct SessionPool {
    model: Model,
    environment: Environment,
    idle: Mutex<Vec<Session>>,
}

impl SessionPool {
    /// Loads the model once (so a broken file fails here, at start-up) and keeps that session.
    pub(crate) fn open(model: &Path, library: &Path) -> Result<Self, MediaError> {
        Self::start(Model::File(model.to_path_buf()), library)
    }

    /// Like `open`, for a model built into the crate (`include_bytes!`).
    pub(crate) fn embedded(
        name: &'static str,
        bytes: &'static [u8],
        library: &Path,
    ) -> Result<Self, MediaError> {
        Self::start(Model::Embedded { name, bytes }, library)
    }

    fn start(model: Model, library: &Path) -> Result<Self, MediaError> {
        let environment = environment(library)?;
        let pool = Self {
            model,
            environment,
            idle: Mutex::new(Vec::new()),
        };
        let first = pool.create()?;
        pool.give_back(first);
        Ok(pool)
    }

    fn create(&self) -> Result<Session, MediaError> {
        let unavailable = |err: &dyn std::fmt::Display| {
            MediaError::EngineUnavailable(format!(
                "ppocr: cannot load the model {}: {err}",
                self.model
            ))
        };
        let mut builder = Session::builder(&self.environment)
            .map_err(|err| unavailable(&err))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|err| unavailable(&err))?
            .with_intra_threads(1)
            .map_err(|err| unavailable(&err))?
            .with_inter_threads(1)
            .map_err(|err| unavailable(&err))?
            .with_intra_op_spinning(false)
            .map_err(|err| unavailable(&err))?;
        match &self.model {
            Model::File(path) => builder.commit_from_file(path),
            Model::Embedded { bytes, .. } => builder.commit_from_memory(bytes),
        }
        .map_err(|err| unavailable(&err))
    }

    fn give_back(&self, session: Session) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(session);
    }

    /// Runs `work` with a session of this model to itself.
    pub(crate) fn with<T>(
        &self,
        work: impl FnOnce(&mut Session) -> Result<T, MediaError>,
    ) -> Result<T, MediaError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut session = match idle {
            Some(session) => session,
            None => self.create()?,
        };
        let result = work(&mut session);
        self.give_back(session);
        result
    }
}

/// Runs a model on one `f32` tensor and hands its first output (shape, values) to `read`.
/// Every ONNX Runtime error, and an output `read` rejects, is `EngineUnavailable`, prefixed
/// with `what` ("ppocr detection", "person model", …).
pub(crate) fn run_model<R>(
    session: &mut Session,
    what: &str,
    shape: Vec<usize>,
    input: Vec<f32>,
    read: impl FnOnce(&[i64], &[f32]) -> Result<R, String>,
) -> Result<R, MediaError> {
    let engine = |err: &dyn std::fmt::Display| {
        MediaError::EngineUnavailable(format!("{what} failed: {err}"))
    };
    let tensor = Tensor::from_array((shape, input)).map_err(|err| engine(&err))?;
    let outputs = session
        .run(ort::inputs![tensor])
        .map_err(|err| engine(&err))?;
    let (shape, values) = outputs[0]
        .try_extract_tensor::<f32>()
        .map_err(|err| engine(&err))?;
    read(shape, values).map_err(|err| engine(&err))
}
