//! A seeded corpus of synthetic frames for tests and the benchmark: activation codes (and some
//! offline-operation codes) shown on a phone screen in front of a webcam, or in a screenshot
//! of a web console. Generated at run time from a seed, never stored as files.
//!
//! # What a sample is
//!
//! The payload is encoded at error correction level M (the `qrcode` crate's default): an
//! activation code of about 120 characters gives a version 7 code (45 modules), an offline
//! operation of about 255 characters version 12 or 13 (65–69 modules). The code's side,
//! without its 4-module quiet zone, is 0.35, 0.5 or 0.65 of the frame height
//! ([`CodeSize`]), shrunk when a rotated or tilted code would not fit in the frame with its
//! quiet zone (the user moves the phone back until the preview shows the whole code). At
//! 640×480 the smallest activation code has about 3.7 pixels per module, the smallest
//! offline code about 2.5: the hardest frames of the corpus.
//!
//! **Screenshots** ([`Scenario::Screenshot`]): a white page (level 240–255) with a dark
//! header and text lines, the code in black (0–30) at an integer number of pixels per module,
//! or scaled by 1.25 or 1.5 (display scaling) with area averaging. No blur, no noise.
//!
//! **Camera frames** (all other scenarios): a phone in portrait, its screen (level 195–235,
//! modules 20–50, text lines) inside a dark body (10–30), in front of a desk or wall (level
//! 60–160 with a gradient of up to ±50 across the frame). A pinhole camera with a 60°
//! horizontal field of view looks at it; the phone is never held perfectly still: every
//! camera frame has up to ±3° of rotation and up to 5° of tilt, lens softness (Gaussian,
//! σ 0.7 px), sensor noise (σ 2 levels), anti-aliasing (2×2 samples per pixel) and 8-bit
//! clipping. The scenarios add, each with its parameters drawn uniformly:
//!
//! | scenario | what is added |
//! |---|---|
//! | rotation | in-plane rotation of 10°–180°, either direction |
//! | perspective | the phone tilted 20°–40° about a random axis in its plane |
//! | blur | defocus: Gaussian σ of 0.25–0.40 module widths (1.0 px at least) |
//! | noise | sensor noise σ 6–14 levels |
//! | low contrast | dim screen in room light: screen 140–190, modules 35–60 levels darker |
//! | inverted | dark mode: screen 15–40, modules 170–225 |
//! | glare | a reflection: Gaussian spot of σ 10–18 % of the code side, +180–280 levels at its centre (clipped by the sensor), centred within the code |
//! | handheld | rotation 5°–30°, tilt 10°–25°, blur 0.15–0.30 modules, noise 4–10 |
//! | dim screen | low contrast, blur 0.15–0.25 modules, noise 4–10 |
//! | dark mode | inverted, rotation 5°–180°, noise 4–10 |
//! | glare at an angle | glare, tilt 15°–30°, noise 4–10 |
//! | motion blur | the phone moving during the exposure: a straight smear of 5–8 px in any direction |
//! | glare on EC-H | a version 16 code at error correction level H (81 modules), with glare |
//! | small, blurred | the code at 2.6–5.5 px per module, blur 0.15–0.30 modules, noise 6–12 |
//! | no code | the phone screen shows text only, or (every other frame) a mosaic of module-sized blocks without finder patterns |
//!
//! **Files** ([`Scenario::TransparentExport`], [`Scenario::TinyModules`]): a PNG export of
//! the code alone at 2–8 whole pixels per module with a transparent background (dark
//! modules opaque black, everything else transparent black, so that a reader dropping the
//! alpha channel sees a black square; [`Sample::input`] has the alpha channel); and a
//! screenshot whose code is drawn at 1–1.6 pixels per module (area-averaged).
//!
//! Heavier blur than 0.4 module widths, or glare that saturates more of the code than its
//! error correction covers, leaves nothing any decoder can read; a user seeing the preview
//! refocuses or tilts the phone.

mod camera;
mod payload;
mod sample;
mod scene;

pub use payload::{Payload, Rng};
pub use sample::{Distortion, Sample};

/// The camera or screenshot resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameSize {
    /// 640×480, a basic webcam.
    Vga,
    /// 1280×720.
    Hd,
    /// 1920×1080.
    FullHd,
}

impl FrameSize {
    /// Every frame size, smallest first.
    pub const ALL: [FrameSize; 3] = [FrameSize::Vga, FrameSize::Hd, FrameSize::FullHd];

    /// Width and height in pixels.
    pub fn dimensions(self) -> (u32, u32) {
        match self {
            FrameSize::Vga => (640, 480),
            FrameSize::Hd => (1280, 720),
            FrameSize::FullHd => (1920, 1080),
        }
    }
}

/// How much of the frame the code fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSize {
    /// The code's side is 0.35 of the frame height.
    Small,
    /// 0.5 of the frame height.
    Medium,
    /// 0.65 of the frame height.
    Large,
}

impl CodeSize {
    /// Every code size, smallest first.
    pub const ALL: [CodeSize; 3] = [CodeSize::Small, CodeSize::Medium, CodeSize::Large];

    /// The code's side (without quiet zone) as a fraction of the frame height.
    pub fn fraction(self) -> f64 {
        match self {
            CodeSize::Small => 0.35,
            CodeSize::Medium => 0.5,
            CodeSize::Large => 0.65,
        }
    }
}

/// A named set of distortions; the module documentation gives their parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A screenshot of a web console: crisp, axis-aligned.
    Screenshot,
    /// A camera frame with the phone rotated in its plane.
    Rotation,
    /// A camera frame with the phone tilted away.
    Perspective,
    /// A defocused camera frame.
    Blur,
    /// A noisy (dark room) camera frame.
    Noise,
    /// A dim screen in a lit room.
    LowContrast,
    /// A dark-mode screen: light modules on dark.
    Inverted,
    /// A reflection on the screen.
    Glare,
    /// Rotation, tilt, blur and noise together.
    Handheld,
    /// Low contrast, blur and noise together.
    DimScreen,
    /// Dark mode, rotation and noise together.
    DarkMode,
    /// Glare, tilt and noise together.
    GlareAtAnAngle,
    /// A PNG export with a transparent background: dark modules opaque, light modules and
    /// quiet zone transparent black.
    TransparentExport,
    /// A screenshot of a code drawn at 1–1.6 pixels per module.
    TinyModules,
    /// A camera frame smeared by 5–8 pixels of motion.
    MotionBlur,
    /// A version 16 code at error correction level H, with glare.
    GlareHighEc,
    /// A small code (2.6–5.5 pixels per module), defocused and noisy.
    SmallBlurred,
    /// No code at all: a phone screen of text, or a mosaic of module-like blocks without
    /// finder patterns. Nothing may be decoded.
    NoCode,
}

impl Scenario {
    /// Every scenario, the screenshot first.
    pub const ALL: [Scenario; 18] = [
        Scenario::Screenshot,
        Scenario::Rotation,
        Scenario::Perspective,
        Scenario::Blur,
        Scenario::Noise,
        Scenario::LowContrast,
        Scenario::Inverted,
        Scenario::Glare,
        Scenario::Handheld,
        Scenario::DimScreen,
        Scenario::DarkMode,
        Scenario::GlareAtAnAngle,
        Scenario::TransparentExport,
        Scenario::TinyModules,
        Scenario::MotionBlur,
        Scenario::GlareHighEc,
        Scenario::SmallBlurred,
        Scenario::NoCode,
    ];

    /// A short lower-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Screenshot => "screenshot",
            Scenario::Rotation => "rotation",
            Scenario::Perspective => "perspective",
            Scenario::Blur => "blur",
            Scenario::Noise => "noise",
            Scenario::LowContrast => "low contrast",
            Scenario::Inverted => "inverted",
            Scenario::Glare => "glare",
            Scenario::Handheld => "handheld",
            Scenario::DimScreen => "dim screen",
            Scenario::DarkMode => "dark mode",
            Scenario::GlareAtAnAngle => "glare at an angle",
            Scenario::TransparentExport => "transparent export",
            Scenario::TinyModules => "tiny modules",
            Scenario::MotionBlur => "motion blur",
            Scenario::GlareHighEc => "glare on EC-H",
            Scenario::SmallBlurred => "small, blurred",
            Scenario::NoCode => "no code",
        }
    }
}

/// One sample, before rendering: everything else follows from `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Position in the corpus, used in file names.
    pub index: usize,
    /// Frame resolution.
    pub frame: FrameSize,
    /// How much of the frame the code fills.
    pub code_size: CodeSize,
    /// The distortions applied.
    pub scenario: Scenario,
    /// What the code carries.
    pub payload: Payload,
    /// Seed of this sample's payload and distortion parameters.
    pub seed: u64,
}

impl Spec {
    /// Renders the sample: deterministic, a few milliseconds to tens of milliseconds.
    pub fn render(&self) -> Sample {
        sample::render(self)
    }
}

/// The benchmark corpus: every frame size × code size × scenario, `replicas` times each with
/// fresh parameters; every third replica carries an offline operation, the others an
/// activation code. `replicas = 3` gives 486 samples, 27 of them without a code.
pub fn corpus(seed: u64, replicas: usize) -> Vec<Spec> {
    let mut specs = Vec::new();
    for frame in FrameSize::ALL {
        for code_size in CodeSize::ALL {
            for scenario in Scenario::ALL {
                for replica in 0..replicas {
                    let payload = if replica % 3 == 2 {
                        Payload::OfflineOperation
                    } else {
                        Payload::Activation
                    };
                    push(&mut specs, seed, frame, code_size, scenario, payload);
                }
            }
        }
    }
    specs
}

/// A quick subset for `cargo test`: every code size × scenario at 640×480 (activation
/// codes, and offline operations for the medium size), plus every scenario at 1280×720 with
/// a medium activation code. 72 samples.
pub fn quick(seed: u64) -> Vec<Spec> {
    let mut specs = Vec::new();
    for code_size in CodeSize::ALL {
        for scenario in Scenario::ALL {
            let payload = if code_size == CodeSize::Medium {
                Payload::OfflineOperation
            } else {
                Payload::Activation
            };
            push(
                &mut specs,
                seed,
                FrameSize::Vga,
                code_size,
                scenario,
                payload,
            );
        }
    }
    for scenario in Scenario::ALL {
        let (frame, size, payload) = (FrameSize::Hd, CodeSize::Medium, Payload::Activation);
        push(&mut specs, seed, frame, size, scenario, payload);
    }
    specs
}

fn push(
    specs: &mut Vec<Spec>,
    seed: u64,
    frame: FrameSize,
    code_size: CodeSize,
    scenario: Scenario,
    payload: Payload,
) {
    let index = specs.len();
    let seed = Rng::new(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64();
    specs.push(Spec {
        index,
        frame,
        code_size,
        scenario,
        payload,
        seed,
    });
}
