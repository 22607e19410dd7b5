//! The two languages of the platform and how a request chooses one.

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;

/// A user-facing language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The preferred supported language of an `Accept-Language` value (q-values honoured).
    pub fn from_header(value: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else if tag == "vi" || tag.starts_with("vi-") {
                Lang::Vi
            } else {
                continue;
            };
            if best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::Vi, |(_, lang)| lang)
    }

    /// The language of a request.
    pub fn of(req: &HttpRequest) -> Lang {
        req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map_or(Lang::Vi, Lang::from_header)
    }

    /// Picks the label text of a domain label.
    pub fn pick(self, label: domain::Label) -> &'static str {
        match self {
            Lang::Vi => label.vi,
            Lang::En => label.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_tag() {
        assert_eq!(Lang::from_header("en"), Lang::En);
        assert_eq!(Lang::from_header("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_header("vi-VN,vi;q=0.9,en;q=0.8"), Lang::Vi);
        assert_eq!(Lang::from_header("fr,en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_header("de"), Lang::Vi);
        assert_eq!(Lang::from_header("vi;q=0.2,en;q=0.7"), Lang::En);
    }
}
