//! Tesseract as a child process: the lines of one photo stacked into one image (PNG on stdin,
//! TSV on stdout), with a timeout, and the reading of its TSV output back into lines.
//!
//! The CLI rather than `leptess`: it needs only Debian's `tesseract-ocr` at run time (no
//! libclang, bindgen or libtesseract-dev at build time), a crash or hang of Tesseract cannot
//! take the worker down, and the timeout is a plain kill. A process start costs ~0.12–0.25 s
//! of CPU here (loading the model), more than reading a line, so the lines of a photo go in
//! one run (`--psm 6`, one line per row, separated by white space) instead of one run each.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use image::{GrayImage, Luma};
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

    /// Reads line images (black on white), one reading per line, in one Tesseract run,
    /// optionally restricted to the characters of `whitelist`.
    ///
    /// # Errors
    /// `EngineUnavailable` when tesseract cannot run or fails (a missing language file, say);
    /// `Io` when it runs past the timeout (it is killed) or the sheet cannot be encoded.
    pub(crate) fn read_lines(
        &self,
        lines: &[&GrayImage],
        whitelist: Option<&str>,
    ) -> Result<Vec<LineText>, MediaError> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let width = lines.iter().map(|l| l.width()).max().unwrap_or(1);
        let height: u32 = lines.iter().map(|l| l.height() + STACK_GAP).sum();
        let mut sheet = GrayImage::from_pixel(width, height, Luma([255]));
        let mut rows = Vec::with_capacity(lines.len());
        let mut y = 0u32;
        for line in lines {
            image::imageops::replace(&mut sheet, *line, 0, i64::from(y));
            rows.push((y, y + line.height()));
            y += line.height() + STACK_GAP;
        }
        let mut png = std::io::Cursor::new(Vec::new());
        sheet
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|err| MediaError::Io(format!("encoding lines for tesseract: {err}")))?;
        let tsv = self.run(&png.into_inner(), whitelist)?;
        Ok(split_rows(&tsv, &rows))
    }

    /// Runs tesseract in block mode on one PNG and returns its TSV output.
    fn run(&self, png: &[u8], whitelist: Option<&str>) -> Result<String, MediaError> {
        let mut command = Command::new(&self.program);
        command
            .args(["stdin", "stdout", "--psm", "6", "-l", "eng"])
            // Without this Tesseract's OpenMP starts a thread per core for every run, and
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
                    "tesseract took longer than {} ms on one photo's lines and was stopped",
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
        Ok(String::from_utf8_lossy(&stdout).into_owned())
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

/// White space between the stacked lines, in pixels (each line also has its own border).
const STACK_GAP: u32 = 24;

/// One word of Tesseract's TSV output: its vertical middle, confidence and text.
struct Word {
    middle: u32,
    confidence: f32,
    text: String,
}

/// The words (level 5 rows with a confidence) of Tesseract's TSV output, in reading order.
fn words(tsv: &str) -> Vec<Word> {
    let mut words = Vec::new();
    for row in tsv.lines().skip(1) {
        let fields: Vec<&str> = row.split('\t').collect();
        if fields.len() < 12 || fields[0] != "5" {
            continue;
        }
        let text = fields[11].trim();
        let (Ok(top), Ok(height), Ok(confidence)) = (
            fields[7].trim().parse::<u32>(),
            fields[9].trim().parse::<u32>(),
            fields[10].trim().parse::<f32>(),
        ) else {
            continue;
        };
        if text.is_empty() || confidence < 0.0 {
            continue;
        }
        words.push(Word {
            middle: top + height / 2,
            confidence,
            text: text.to_owned(),
        });
    }
    words
}

/// Joins words into one reading with the lowest confidence (0 when there is none).
fn join<'a>(words: impl Iterator<Item = &'a Word>) -> LineText {
    let mut texts = Vec::new();
    let mut lowest: Option<f32> = None;
    for word in words {
        texts.push(word.text.as_str());
        lowest = Some(lowest.map_or(word.confidence, |c: f32| c.min(word.confidence)));
    }
    LineText {
        text: texts.join(" "),
        confidence: lowest.unwrap_or(0.0),
    }
}

/// The whole TSV output as one reading.
#[cfg(test)]
pub(crate) fn parse_tsv(tsv: &str) -> LineText {
    join(words(tsv).iter())
}

/// One reading per stacked row `(top, bottom)`: the words whose middle falls in the row or
/// in the white space around it.
fn split_rows(tsv: &str, rows: &[(u32, u32)]) -> Vec<LineText> {
    let words = words(tsv);
    let half_gap = STACK_GAP / 2;
    rows.iter()
        .map(|&(top, bottom)| {
            join(
                words
                    .iter()
                    .filter(|w| w.middle + half_gap >= top && w.middle < bottom + half_gap),
            )
        })
        .collect()
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
    fn words_of_stacked_lines_are_given_back_to_their_own_line() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   5\t1\t1\t1\t1\t1\t16\t16\t100\t40\t91\tKM\n\
                   5\t1\t1\t1\t1\t2\t140\t17\t80\t40\t88\t21\n\
                   5\t1\t1\t1\t2\t1\t16\t112\t150\t40\t96\t2048\n";
        // Rows: 0..72 (KM 21), 96..168 (2048), 192..264 (nothing read).
        let lines = split_rows(tsv, &[(0, 72), (96, 168), (192, 264)]);
        assert_eq!(
            lines[0],
            LineText {
                text: "KM 21".into(),
                confidence: 88.0
            }
        );
        assert_eq!(
            lines[1],
            LineText {
                text: "2048".into(),
                confidence: 96.0
            }
        );
        assert_eq!(
            lines[2],
            LineText {
                text: String::new(),
                confidence: 0.0
            }
        );
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
