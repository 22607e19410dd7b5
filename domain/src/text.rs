//! Text folding for case- and diacritic-insensitive Vietnamese search.
//!
//! Both backends search a stored folded column with `LIKE`, so folding happens here, once, in Rust:
//! lower-case, strip Vietnamese tone and vowel marks (precomposed or as combining marks, so NFD
//! input works), `đ` → `d`, and collapse runs of white space.

const FOLDS: &[(&str, char)] = &[
    ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
    ("èéẹẻẽêềếệểễ", 'e'),
    ("ìíịỉĩ", 'i'),
    ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
    ("ùúụủũưừứựửữ", 'u'),
    ("ỳýỵỷỹ", 'y'),
    ("đ", 'd'),
];

fn fold_char(c: char) -> Option<char> {
    if ('\u{0300}'..='\u{036f}').contains(&c) {
        return None;
    }
    for (set, base) in FOLDS {
        if set.contains(c) {
            return Some(*base);
        }
    }
    Some(c)
}

/// Folds `input` for search: `"Đăng Ký  Hộ kinh doanh"` → `"dang ky ho kinh doanh"`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if let Some(f) = fold_char(c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(f);
        }
    }
    out
}

/// A `LIKE` pattern that finds the folded `term` anywhere, with `%`, `_` and `\` taken literally
/// (use with `ESCAPE '\'`).
pub fn like_contains(term: &str) -> String {
    let mut pattern = String::from("%");
    for c in fold(term).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precomposed_and_decomposed_input_fold_alike() {
        assert_eq!(fold("Đăng ký hộ kinh doanh"), "dang ky ho kinh doanh");
        // NFD: "Đa\u{0306}ng ky\u{0301}"
        assert_eq!(fold("Đa\u{0306}ng ky\u{0301}"), "dang ky");
        assert_eq!(fold("  CÀ PHÊ   SỮA ĐÁ "), "ca phe sua da");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_contains("50%_a"), "%50\\%\\_a%");
        assert_eq!(like_contains("a\\b"), "%a\\\\b%");
    }
}
