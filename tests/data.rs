//! The dataset loader: checksums, clear errors for missing or malformed files.

use shousi::data::*;

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shousi-data-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn committed_datasets_load_and_match_their_checksums() {
    let text = load_text(&PRIDE_AND_PREJUDICE).unwrap();
    assert!(text.starts_with("PRIDE AND PREJUDICE"));
    assert!(text.contains("It is a truth universally acknowledged"));
    assert_eq!(text.lines().count(), 13030);
    let iris = load_sklearn_csv(&IRIS, &IRIS_COLUMNS).unwrap();
    assert_eq!(iris.shape(), (150, 5));
    let names: Vec<String> = iris.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(names, IRIS_COLUMNS);
    let target: Vec<i64> = iris.column("target").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert_eq!(target.iter().filter(|&&t| t == 0).count(), 50);
    assert_eq!((target.iter().min(), target.iter().max()), (Some(&0), Some(&2)));
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = temp_dir("missing");
    let err = load_text_from(&dir, &PRIDE_AND_PREJUDICE).unwrap_err().to_string();
    assert!(err.starts_with("load_text: dataset `pride_and_prejudice`: cannot read"), "{err}");
    assert!(err.contains("git checkout -- data/pride_and_prejudice.txt"), "{err}");
}

#[test]
fn altered_file_fails_the_checksum() {
    let dir = temp_dir("altered");
    std::fs::write(dir.join(IRIS.file), "150,4,a,b,c\n1,2,3,4,0\n").unwrap();
    let err = load_sklearn_csv_from(&dir, &IRIS, &IRIS_COLUMNS).unwrap_err().to_string();
    assert!(err.starts_with("load_sklearn_csv: dataset `iris`:"), "{err}");
    assert!(err.contains(&format!("expected {}", IRIS.sha256)), "{err}");
}

#[test]
fn malformed_files_are_errors() {
    let dir = temp_dir("malformed");
    let write = |name: &'static str, body: &[u8]| -> Dataset {
        std::fs::write(dir.join(name), body).unwrap();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(body);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Dataset { name: "fixture", file: name, sha256: Box::leak(hex.into_boxed_str()) }
    };
    let short = write("short.csv", b"3,2,a,b\n1.0,2.0,0\n1.5,2.5,1\n");
    let err = load_sklearn_csv_from(&dir, &short, &["x", "y", "target"]).unwrap_err().to_string();
    assert!(err.contains("has shape (2, 3), but its header promises (3, 3)"), "{err}");
    let no_header = write("noheader.csv", b"a,b,c\n1,2,3\n");
    let err = load_sklearn_csv_from(&dir, &no_header, &["x", "y", "target"]).unwrap_err().to_string();
    assert!(err.contains("is not `n_samples,n_features,...`"), "{err}");
    let ok = write("ok.csv", b"2,2,a,b\n1.0,2.0,0\n1.5,2.5,1\n");
    let err = load_sklearn_csv_from(&dir, &ok, &["x", "target"]).unwrap_err().to_string();
    assert!(err.starts_with("load_sklearn_csv: shape mismatch: `columns` has 2 names"), "{err}");
    assert_eq!(load_sklearn_csv_from(&dir, &ok, &["x", "y", "target"]).unwrap().shape(), (2, 3));
    let latin1 = write("latin1.txt", b"caf\xe9\n");
    let err = load_text_from(&dir, &latin1).unwrap_err().to_string();
    assert!(err.contains("is not valid UTF-8"), "{err}");
}
