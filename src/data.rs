//! The datasets under `data/`, loaded with their checksums verified.
//!
//! Every file is committed, small, and listed in `data/SOURCES.md` with its origin,
//! licence and SHA-256. Nothing is downloaded at run time: a missing or altered file
//! is an [`Error::Data`](crate::Error) that says which file and what to do.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::{CsvReadOptions, DataFrame, SerReader};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A committed dataset: its file under `data/` and the SHA-256 of its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Dataset {
    /// Short name used in messages.
    pub name: &'static str,
    /// File name under the data folder.
    pub file: &'static str,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: &'static str,
}

/// Jane Austen, *Pride and Prejudice* (1813), one line of the text per line of the file.
/// Public domain; taken from the `janeaustenr` package (MIT) as Debian ships it.
pub const PRIDE_AND_PREJUDICE: Dataset = Dataset {
    name: "pride_and_prejudice",
    file: "pride_and_prejudice.txt",
    sha256: "dfc684d4f857fa938268f9ab9c5567b64bd0691251eca959644adeabe6287a4d",
};

/// Fisher's iris data (150 × 4 features + class 0/1/2), as scikit-learn 1.9.1 ships it
/// (`sklearn/datasets/data/iris.csv`, BSD-3-Clause). Load with [`load_sklearn_csv`].
pub const IRIS: Dataset = Dataset {
    name: "iris",
    file: "iris.csv",
    sha256: "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449",
};

/// Column names of [`IRIS`] as returned by [`load_sklearn_csv`].
pub const IRIS_COLUMNS: [&str; 5] = ["sepal_length", "sepal_width", "petal_length", "petal_width", "target"];

/// The data folder: `$SHOUSI_DATA` if set, else `data/` in this crate's checkout.
pub fn data_dir() -> PathBuf {
    std::env::var_os("SHOUSI_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("data"))
}

/// Reads `ds` from `dir` and checks its SHA-256.
pub fn load_bytes_from(dir: &Path, ds: &Dataset) -> Result<Vec<u8>> {
    const OP: &str = "load_bytes";
    let path = dir.join(ds.file);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::data(
            OP,
            ds.name,
            format!("cannot read {}: {e}; the file is committed under data/, restore it with `git checkout -- data/{}`", path.display(), ds.file),
        )
    })?;
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex != ds.sha256 {
        return Err(Error::data(
            OP,
            ds.name,
            format!("{} has SHA-256 {hex}, expected {} (file altered or truncated; see data/SOURCES.md)", path.display(), ds.sha256),
        ));
    }
    Ok(bytes)
}

/// Loads a text dataset (checksum verified) as a `String`.
///
/// ```
/// let text = shousi::data::load_text(&shousi::data::PRIDE_AND_PREJUDICE).unwrap();
/// assert!(text.starts_with("PRIDE AND PREJUDICE"));
/// ```
pub fn load_text(ds: &Dataset) -> Result<String> {
    load_text_from(&data_dir(), ds)
}

/// [`load_text`] from an explicit folder.
pub fn load_text_from(dir: &Path, ds: &Dataset) -> Result<String> {
    let bytes = load_bytes_from(dir, ds).map_err(|e| e.in_op("load_text"))?;
    String::from_utf8(bytes)
        .map_err(|e| Error::data("load_text", ds.name, format!("is not valid UTF-8: {e}")))
}

/// Loads a CSV in scikit-learn's bundled format (checksum verified): a first line
/// `n_samples,n_features,class names...`, then `n_samples` rows of features and an
/// integer class. Columns are named `columns` (features then target).
///
/// ```
/// use shousi::data::{IRIS, IRIS_COLUMNS, load_sklearn_csv};
/// let df = load_sklearn_csv(&IRIS, &IRIS_COLUMNS).unwrap();
/// assert_eq!(df.shape(), (150, 5));
/// ```
pub fn load_sklearn_csv(ds: &Dataset, columns: &[&str]) -> Result<DataFrame> {
    load_sklearn_csv_from(&data_dir(), ds, columns)
}

/// [`load_sklearn_csv`] from an explicit folder.
pub fn load_sklearn_csv_from(dir: &Path, ds: &Dataset, columns: &[&str]) -> Result<DataFrame> {
    const OP: &str = "load_sklearn_csv";
    let bytes = load_bytes_from(dir, ds).map_err(|e| e.in_op(OP))?;
    let text = String::from_utf8(bytes).map_err(|e| Error::data(OP, ds.name, format!("is not valid UTF-8: {e}")))?;
    let (header, body) = text
        .split_once('\n')
        .ok_or_else(|| Error::data(OP, ds.name, "has no header line"))?;
    let meta: Vec<&str> = header.trim().split(',').collect();
    let parse = |i: usize| meta.get(i).and_then(|s| s.parse::<usize>().ok());
    let (Some(n_samples), Some(n_features)) = (parse(0), parse(1)) else {
        return Err(Error::data(OP, ds.name, format!("header `{header}` is not `n_samples,n_features,...`")));
    };
    if columns.len() != n_features + 1 {
        return Err(Error::shape(
            OP,
            format!("`columns` has {} names but {} has {n_features} features + 1 target", columns.len(), ds.name),
        ));
    }
    let mut df = CsvReadOptions::default()
        .with_has_header(false)
        .into_reader_with_file_handle(Cursor::new(body.as_bytes().to_vec()))
        .finish()
        .map_err(|e| Error::data(OP, ds.name, format!("CSV parse error: {e}")))?;
    if df.shape() != (n_samples, n_features + 1) {
        return Err(Error::data(
            OP,
            ds.name,
            format!("has shape {:?}, but its header promises ({n_samples}, {})", df.shape(), n_features + 1),
        ));
    }
    df.set_column_names(columns)
        .map_err(|e| Error::data(OP, ds.name, format!("cannot name columns: {e}")))?;
    Ok(df)
}
