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

/// For a search of several words, a cheaper `LIKE` pattern on its longest word alone, to test
/// before the phrase: a leading-wildcard `LIKE` costs about text length × pattern length per
/// row, and every row matching the phrase matches the word, so the result does not change.
pub fn like_prefilter(term: &str) -> Option<String> {
    let folded = fold(term);
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() < 2 {
        return None;
    }
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words.first().map(|w| like_contains(w))
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
    fn the_prefilter_is_the_longest_word() {
        assert_eq!(like_prefilter("Giấy phép xây dựng").as_deref(), Some("%giay%"));
        assert_eq!(like_prefilter("cấp giấy chứng nhận").as_deref(), Some("%chung%"));
        assert_eq!(like_prefilter("khai"), None);
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_contains("50%_a"), "%50\\%\\_a%");
        assert_eq!(like_contains("a\\b"), "%a\\\\b%");
    }
}
