//! Reads the files a Tidewater logger writes.
//!
//! # Reading a season
//!
//! Open the logger's file with [`Gauge::open`], then walk its readings:
//!
//! ```
//! let gauge = tidewater::Gauge::open("harbour.tide", 0.0);
//! for reading in gauge.readings(None) {
//!     println!("{} m", reading.height);
//! }
//! ```
//!
//! ### Datum
//!
//! Heights are given above chart datum.

/// One height reading.
pub struct Reading {
    /// Minutes since the start of the season.
    pub minute: u32,
    /// Height above chart datum, in metres.
    pub height: f32,
}

/// A logger file opened for reading.
pub struct Gauge {
    /// The name of the port the gauge stands in, from the file's header.
    pub port: String,
    offset: f32,
}

impl Gauge {
    /// Opens a logger file; heights are shifted by `datum_offset` metres.
    pub fn open(path: &str, datum_offset: f32) -> Gauge {
        Gauge { port: path.to_string(), offset: datum_offset }
    }

    /// Yields the readings in order, starting at minute `since`.
    pub fn readings(&self, since: Option<u32>) -> impl Iterator<Item = Reading> + '_ {
        let start = since.unwrap_or(0);
        (start..start + 2).map(move |minute| Reading { minute, height: self.offset })
    }

    /// Shifts every height so the latest one equals `reference`.
    pub fn calibrate(&mut self, reference: f32) {
        self.offset = reference;
    }
}

/// The state of the tide at a reading.
pub enum Tide {
    /// The water is rising.
    Flood,
    /// The water is falling.
    Ebb,
    /// High or low water: the height stays within a centimetre.
    Slack,
}

/// A source of readings other than a logger file.
pub trait Source {
    /// What one reading of this source is.
    type Item;

    /// The next reading, or `None` at the end of the season.
    fn next_reading(&mut self) -> Option<Self::Item>;
}

/// Returns the predicted high and low waters for a port.
pub fn read_tide_table(port: &str) -> Vec<(u32, f32)> {
    let _ = port;
    Vec::new()
}
