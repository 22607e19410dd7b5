//! A small layout helper over `krilla` for the one-stop forms (Circular 01/2018 Art. 9): A4
//! pages, DejaVu Sans (full Vietnamese coverage, subset into the file), centred headings,
//! wrapped paragraphs, label–value lines and ruled tables that break across pages.
//!
//! Layout is computed first into a list of drawing operations per page, then rendered, so the
//! layout code never holds krilla's page borrows.

use std::sync::{Arc, LazyLock};

use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};

struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Self> {
        Some(Self { font: Font::new(krilla::Data::from(bytes), 0)?, metrics: ttf_parser::Face::parse(bytes, 0).ok()? })
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let per_unit = size / f32::from(self.metrics.units_per_em());
        text.chars()
            .map(|c| self.metrics.glyph_index(c).and_then(|g| self.metrics.glyph_hor_advance(g)).map_or(0.0, f32::from) * per_unit)
            .sum()
    }
}

struct Faces {
    regular: Face,
    bold: Face,
}

static FACES: LazyLock<Option<Arc<Faces>>> =
    LazyLock::new(|| Some(Arc::new(Faces { regular: Face::load(dejavu::sans::regular())?, bold: Face::load(dejavu::sans::bold())? })));

/// Text weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// Horizontal placement of a line of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

enum Op {
    Text { x: f32, y: f32, size: f32, weight: Weight, text: String },
    Line { x1: f32, y1: f32, x2: f32, y2: f32 },
}

/// A column of a table: its title and its share of the width.
pub struct Column<'a> {
    pub title: &'a str,
    pub share: f32,
}

/// A document being laid out.
pub struct Layout {
    faces: Arc<Faces>,
    width: f32,
    height: f32,
    margin: f32,
    pages: Vec<Vec<Op>>,
    y: f32,
}

/// The fonts could not be loaded or the PDF could not be written.
#[derive(Debug, thiserror::Error)]
#[error("PDF rendering failed: {0}")]
pub struct PdfError(String);

impl Layout {
    /// An A4 document, portrait or landscape.
    ///
    /// # Errors
    /// When the embedded fonts cannot be read.
    pub fn a4(landscape: bool) -> Result<Self, PdfError> {
        let faces = FACES.clone().ok_or_else(|| PdfError("the embedded DejaVu fonts do not load".into()))?;
        let (width, height) = if landscape { (842.0, 595.0) } else { (595.0, 842.0) };
        let margin = 48.0;
        Ok(Self { faces, width, height, margin, pages: vec![Vec::new()], y: margin })
    }

    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.faces.regular,
            Weight::Bold => &self.faces.bold,
        }
    }

    fn content_width(&self) -> f32 {
        self.width - 2.0 * self.margin
    }

    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page when less than `needed` points remain.
    pub fn ensure(&mut self, needed: f32) {
        if self.y + needed > self.height - self.margin {
            self.pages.push(Vec::new());
            self.y = self.margin;
        }
    }

    /// Splits `text` into lines no wider than `width`.
    fn wrap(&self, text: &str, size: f32, weight: Weight, width: f32) -> Vec<String> {
        let face = self.face(weight);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
                if face.width(&candidate, size) <= width || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::replace(&mut line, word.to_owned()));
                }
                // A single word wider than the column is cut by characters.
                while face.width(&line, size) > width && line.chars().count() > 1 {
                    let mut head = String::new();
                    for c in line.chars() {
                        if face.width(&format!("{head}{c}"), size) > width && !head.is_empty() {
                            break;
                        }
                        head.push(c);
                    }
                    let rest = line[head.len()..].to_owned();
                    lines.push(head);
                    line = rest;
                }
            }
            lines.push(line);
        }
        lines
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: &str) {
        if !text.is_empty() {
            self.page().push(Op::Text { x, y, size, weight, text: text.to_owned() });
        }
    }

    /// A wrapped paragraph across the page width.
    pub fn paragraph(&mut self, text: &str, size: f32, weight: Weight, align: Align) {
        let width = self.content_width();
        for line in self.wrap(text, size, weight, width) {
            self.ensure(size * 1.4);
            let w = self.face(weight).width(&line, size);
            let x = match align {
                Align::Left => self.margin,
                Align::Center => self.margin + (width - w) / 2.0,
                Align::Right => self.margin + width - w,
            };
            let y = self.y + size;
            self.text_at(x, y, size, weight, &line);
            self.y += size * 1.4;
        }
    }

    /// Two blocks side by side (the agency on the left, the national motto on the right, or
    /// two signatures), each centred in its half.
    pub fn two_columns(&mut self, left: &[(&str, Weight)], right: &[(&str, Weight)], size: f32) {
        let half = self.content_width() / 2.0;
        let rows = left.len().max(right.len());
        self.ensure(size * 1.4 * rows as f32);
        let top = self.y;
        for (column, lines) in [(0.0, left), (half, right)] {
            let mut y = top;
            for (text, weight) in lines {
                for line in self.wrap(text, size, *weight, half - 8.0) {
                    let w = self.face(*weight).width(&line, size);
                    self.text_at(self.margin + column + (half - w) / 2.0, y + size, size, *weight, &line);
                    y += size * 1.4;
                }
            }
            self.y = self.y.max(y);
        }
    }

    /// Vertical space.
    pub fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// A ruled table with a bold header row; rows break across pages (the header repeats).
    pub fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<String>], size: f32) {
        let total: f32 = columns.iter().map(|c| c.share).sum::<f32>().max(f32::EPSILON);
        let widths: Vec<f32> = columns.iter().map(|c| c.share / total * self.content_width()).collect();
        let header: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
        self.table_row(&widths, &header, size, Weight::Bold);
        for row in rows {
            let height = self.row_height(&widths, row, size, Weight::Regular);
            if self.y + height > self.height - self.margin {
                self.ensure(self.height);
                self.table_row(&widths, &header, size, Weight::Bold);
            }
            self.table_row(&widths, row, size, Weight::Regular);
        }
    }

    fn row_height(&self, widths: &[f32], cells: &[String], size: f32, weight: Weight) -> f32 {
        let lines = widths.iter().zip(cells).map(|(w, cell)| self.wrap(cell, size, weight, w - 6.0).len()).max().unwrap_or(1);
        lines as f32 * size * 1.3 + 6.0
    }

    fn table_row(&mut self, widths: &[f32], cells: &[String], size: f32, weight: Weight) {
        let height = self.row_height(widths, cells, size, weight);
        self.ensure(height);
        let (top, mut x) = (self.y, self.margin);
        let right = self.margin + widths.iter().sum::<f32>();
        let left = self.margin;
        self.page().push(Op::Line { x1: left, y1: top, x2: right, y2: top });
        self.page().push(Op::Line { x1: left, y1: top + height, x2: right, y2: top + height });
        for (width, cell) in widths.iter().zip(cells) {
            self.page().push(Op::Line { x1: x, y1: top, x2: x, y2: top + height });
            let mut y = top + 3.0 + size;
            for line in self.wrap(cell, size, weight, width - 6.0) {
                self.text_at(x + 3.0, y, size, weight, &line);
                y += size * 1.3;
            }
            x += width;
        }
        self.page().push(Op::Line { x1: right, y1: top, x2: right, y2: top + height });
        self.y = top + height;
    }

    /// Renders the pages.
    ///
    /// # Errors
    /// When krilla cannot write the document.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        let mut document = Document::new();
        let settings = PageSettings::from_wh(self.width, self.height).ok_or_else(|| PdfError("bad page size".into()))?;
        for ops in &self.pages {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Text { x, y, size, weight, text } => {
                        let font = match weight {
                            Weight::Regular => self.faces.regular.font.clone(),
                            Weight::Bold => self.faces.bold.font.clone(),
                        };
                        surface.set_stroke(None);
                        surface.set_fill(Some(krilla::paint::Fill::default()));
                        surface.draw_text(Point::from_xy(*x, *y), font, *size, text, false, TextDirection::Auto);
                    }
                    Op::Line { x1, y1, x2, y2 } => {
                        let mut builder = PathBuilder::new();
                        builder.move_to(*x1, *y1);
                        builder.line_to(*x2, *y2);
                        if let Some(path) = builder.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke { width: 0.6, ..Stroke::default() }));
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| PdfError(format!("{e:?}")))
    }
}
