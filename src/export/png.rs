//! The timeline as PNG: the SVG export rasterised by resvg, at its own size
//! (1280 px wide).
//!
//! The SVG names only the generic families `sans-serif` and `monospace`;
//! they are mapped here to the first installed family of a short list
//! (Debian's `fonts-dejavu-core` gives DejaVu Sans and DejaVu Sans Mono).
//! With no font at all the text would silently vanish, so that is an error
//! that says which package to install.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use crate::scenario::RunReport;

use super::ExportError;

/// Families tried, in order, for `sans-serif`.
const SANS_FAMILIES: &[&str] = &[
    "DejaVu Sans",
    "Liberation Sans",
    "Noto Sans",
    "FreeSans",
    "Arial",
];
/// Families tried, in order, for `monospace`.
const MONO_FAMILIES: &[&str] = &[
    "DejaVu Sans Mono",
    "Liberation Mono",
    "Noto Sans Mono",
    "FreeMono",
    "Courier New",
];

/// The PNG bytes of a run's timeline.
pub fn png(report: &RunReport) -> Result<Vec<u8>, ExportError> {
    render(&super::svg::svg(report))
}

/// Rasterises an SVG document at its own size.
pub fn render(svg: &str) -> Result<Vec<u8>, ExportError> {
    let fonts = fonts()?;
    let options = usvg::Options {
        fontdb: fonts,
        font_family: "sans-serif".to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|err| ExportError::Render(format!("the SVG does not parse: {err}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        ExportError::Render(format!(
            "cannot make a {}x{} picture",
            size.width(),
            size.height()
        ))
    })?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|err| ExportError::Render(err.to_string()))
}

/// The system fonts, loaded once per process, with the generic families
/// pointed at installed ones.
pub fn fonts() -> Result<Arc<usvg::fontdb::Database>, ExportError> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    let db = FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_system_fonts();
        let installed = |wanted: &[&str]| -> Option<String> {
            wanted
                .iter()
                .find(|family| {
                    db.faces()
                        .any(|face| face.families.iter().any(|(name, _)| name == *family))
                })
                .map(|family| family.to_string())
                .or_else(|| {
                    db.faces()
                        .next()
                        .and_then(|face| face.families.first().map(|(name, _)| name.clone()))
                })
        };
        let (sans, mono) = (installed(SANS_FAMILIES), installed(MONO_FAMILIES));
        if let Some(sans) = sans {
            db.set_sans_serif_family(sans);
        }
        if let Some(mono) = mono {
            db.set_monospace_family(mono);
        }
        Arc::new(db)
    });
    if db.is_empty() {
        return Err(ExportError::Render(
            "no fonts are installed, so the PNG would have no text (on Debian: apt-get install fonts-dejavu-core)".into(),
        ));
    }
    Ok(db.clone())
}

/// The families `sans-serif` and `monospace` resolve to.
pub fn generic_families() -> Result<(String, String), ExportError> {
    let db = fonts()?;
    let name = |family: usvg::fontdb::Family| db.family_name(&family).to_owned();
    Ok((
        name(usvg::fontdb::Family::SansSerif),
        name(usvg::fontdb::Family::Monospace),
    ))
}
