//! Tesseract as a child process: one run per line image (PNG on stdin, TSV on stdout), in
//! single-line mode, with a timeout, and the reading of its TSV output.
//!
//! The CLI rather than `leptess`: it needs only Debian's `tesseract-ocr` at run time (no
//! libclang, bindgen or libtesseract-dev at build time), a crash or hang of Tesseract cannot
//! take the worker down, and the timeout is a plain kill. The cost is a process start per
//! line (~0.12 s of CPU measured here), which the detector keeps low by sending only lines.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::MediaError;

/// The whitelist of the digits-only reading.
pub(crate) const DIGITS: &str = "0123456789";

/// What is said when `tesseract` cannot be started.
pub(crate) const NOT_ON_PATH: &str = "tesseract not found on PATH; install Debian's tesseract-ocr or run deploy/local/install-deps.sh";

/// A located `tesseract` program.
#[derive(Debug, Clone)]
pub(crate) struct Tesseract {
    program: OsString,
    timeout: Duration,
    /// First line of `tesseract --version`, e.g. "tesseract 5.3.0".
    pub version: String,
}

/// Tesseract's reading of one line: the words joined by spaces, and the lowest word
/// confidence (0–100; 0 when there is no word).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineText {
    pub text: String,
    pub confidence: f32,
}

impl Tesseract {
    /// Checks that `program --version` runs.
    ///
    /// # Errors
    /// `EngineUnavailable` with a message saying how to install it.
    pub(crate) fn locate(
        program: impl Into<OsString>,
        timeout: Duration,
    ) -> Result<Self, MediaError> {
        let program = program.into();
        let output = Command::new(&program)
            .arg("--version")
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::null())
            .output()
            .map_err(|err| match err.kind() {
                std::io::ErrorKind::NotFound => MediaError::EngineUnavailable(NOT_ON_PATH.into()),
                _ => MediaError::EngineUnavailable(format!(
                    "tesseract ({}) cannot be started: {err}",
                    program.to_string_lossy()
                )),
            })?;
        if !output.status.success() {
            return Err(MediaError::EngineUnavailable(format!(
                "`{} --version` failed ({}): {}",
                program.to_string_lossy(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        // Tesseract 4 printed its version on stderr, 5 on stdout.
        let text = [output.stdout, output.stderr].concat();
        let version = String::from_utf8_lossy(&text)
            .lines()
            .next()
            .unwrap_or("tesseract (unknown version)")
            .trim()
            .to_owned();
        Ok(Self {
            program,
            timeout,
            version,
        })
    }

    /// Reads one line image (PNG bytes), optionally restricted to `whitelist`.
    ///
    /// # Errors
    /// `EngineUnavailable` when tesseract cannot run or fails (a missing language file, say);
    /// `Io` when it runs past the timeout (it is killed).
    pub(crate) fn read_line(
        &self,
        png: &[u8],
        whitelist: Option<&str>,
    ) -> Result<LineText, MediaError> {
        let mut command = Command::new(&self.program);
        command
            .args(["stdin", "stdout", "--psm", "7", "-l", "eng"])
            // Without this Tesseract's OpenMP starts a thread per core for every line, and
            // it must be in the environment before the process starts.
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(chars) = whitelist {
            command.args(["-c", &format!("tessedit_char_whitelist={chars}")]);
        }
        command.arg("tsv");
        let mut child = command.spawn().map_err(|err| {
            MediaError::EngineUnavailable(match err.kind() {
                std::io::ErrorKind::NotFound => NOT_ON_PATH.to_owned(),
                _ => format!("tesseract cannot be started: {err}"),
            })
        })?;
        let mut stdin = child.stdin.take();
        let input = png.to_vec();
        let writer = std::thread::spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                // A write error shows up as tesseract's own failure below.
                let _ = stdin.write_all(&input);
            }
        });
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = match child.wait_timeout(self.timeout) {
            Ok(Some(status)) => status,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(MediaError::Io(format!(
                    "tesseract took longer than {} ms on one line and was stopped",
                    self.timeout.as_millis()
                )));
            }
            Err(err) => return Err(MediaError::Io(format!("waiting for tesseract: {err}"))),
        };
        let _ = writer.join();
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            return Err(MediaError::EngineUnavailable(format!(
                "tesseract failed ({status}): {}",
                String::from_utf8_lossy(&stderr).trim()
            )));
        }
        Ok(parse_tsv(&String::from_utf8_lossy(&stdout)))
    }
}

/// Reads a pipe to its end on a thread, so a full pipe never blocks the child.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The words (level 5 rows) of Tesseract's TSV output, and their lowest confidence.
pub(crate) fn parse_tsv(tsv: &str) -> LineText {
    let mut words = Vec::new();
    let mut lowest: Option<f32> = None;
    for row in tsv.lines().skip(1) {
        let fields: Vec<&str> = row.split('\t').collect();
        if fields.len() < 12 || fields[0] != "5" {
            continue;
        }
        let text = fields[11].trim();
        let Ok(confidence) = fields[10].trim().parse::<f32>() else {
            continue;
        };
        if text.is_empty() || confidence < 0.0 {
            continue;
        }
        words.push(text.to_owned());
        lowest = Some(lowest.map_or(confidence, |c: f32| c.min(confidence)));
    }
    LineText {
        text: words.join(" "),
        confidence: lowest.unwrap_or(0.0),
    }
}

/// What an unrestricted reading of a line says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Only digits (spaces removed): the number.
    Digits(String),
    /// Digits mixed with letters that Tesseract often reads for digits (O for 0, I or l for 1,
    /// S for 5, B for 8, Z for 2…): read again with the digit whitelist.
    Ambiguous,
    /// Letters that are not digit look-alikes: a word, a banner, a sign. Never a bib.
    Words,
    /// Nothing readable.
    Nothing,
}

/// Letters Tesseract may output for a digit of a bib font.
const DIGIT_LOOKALIKES: &str = "OoDQIl|iSsBZzGgqbT";

/// Classifies an unrestricted reading. Punctuation is noise from blob edges and is ignored.
pub(crate) fn classify(text: &str) -> Verdict {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    if chars.is_empty() {
        return Verdict::Nothing;
    }
    if chars.iter().all(char::is_ascii_digit) {
        return Verdict::Digits(chars.into_iter().collect());
    }
    let lookalikes_only = chars
        .iter()
        .all(|c| c.is_ascii_digit() || DIGIT_LOOKALIKES.contains(*c));
    let digits = chars.iter().filter(|c| c.is_ascii_digit()).count();
    if lookalikes_only && digits * 2 >= chars.len() {
        Verdict::Ambiguous
    } else {
        Verdict::Words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_are_joined_and_the_lowest_confidence_kept() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t300\t80\t-1\t\n\
                   4\t1\t1\t1\t1\t0\t16\t16\t260\t40\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t16\t16\t100\t40\t91.5\tKM\n\
                   5\t1\t1\t1\t1\t2\t140\t16\t80\t40\t88.25\t21\n";
        let line = parse_tsv(tsv);
        assert_eq!(line.text, "KM 21");
        assert_eq!(line.confidence, 88.25);
    }

    #[test]
    fn empty_or_garbled_tsv_reads_as_nothing() {
        assert_eq!(parse_tsv("").text, "");
        assert_eq!(parse_tsv("level\n5\tshort\n").confidence, 0.0);
    }

    #[test]
    fn digits_are_a_number_words_are_rejected_and_lookalikes_are_read_again() {
        assert_eq!(classify("20 48"), Verdict::Digits("2048".into()));
        assert_eq!(classify("'2048."), Verdict::Digits("2048".into()));
        assert_eq!(classify("CITY RUN 2026"), Verdict::Words);
        assert_eq!(classify("KM 21"), Verdict::Words);
        assert_eq!(classify("1O5"), Verdict::Ambiguous);
        assert_eq!(classify("IOSO"), Verdict::Words);
        assert_eq!(classify(" .,"), Verdict::Nothing);
    }
}
