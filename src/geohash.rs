//! Redis's geohash arithmetic (geohash.c, geohash_helper.c): 52-bit
//! interleaved scores over the Web-Mercator latitude range, the 9-box
//! cover of a search area, and haversine distances on Redis's sphere.
//! Every step mirrors the C code's order of floating-point operations, since
//! search results and printed coordinates must match Redis to the last digit.

pub const LON_MIN: f64 = -180.0;
pub const LON_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const STEP_MAX: u8 = 26;

const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    const ZERO: Hash = Hash { bits: 0, step: 0 };

    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score prefix (geohashAlign52Bits).
    pub fn align52(self) -> u64 {
        self.bits << (52 - self.step as u32 * 2)
    }
}

#[derive(Clone, Copy)]
struct Range {
    min: f64,
    max: f64,
}

const LON_RANGE: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};
const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

struct Area {
    lon: Range,
    lat: Range,
}

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (xlo as u64, ylo as u64);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// geohashEncode: None outside the ranges (callers check them first).
fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    Some(Hash {
        bits: interleave64(lat_offset as u32, lon_offset as u32),
        step,
    })
}

/// The 52-bit score of a valid position.
pub fn encode_wgs84(lon: f64, lat: f64) -> Option<u64> {
    encode(LON_RANGE, LAT_RANGE, lon, lat, STEP_MAX).map(Hash::align52)
}

fn decode(lon_r: Range, lat_r: Range, h: Hash) -> Area {
    let sep = deinterleave64(h.bits);
    let ilat = sep as u32;
    let ilon = (sep >> 32) as u32;
    let div = (1u64 << h.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    Area {
        lat: Range {
            min: lat_r.min + (ilat as f64 * 1.0 / div) * lat_scale,
            max: lat_r.min + (ilat.wrapping_add(1) as f64 * 1.0 / div) * lat_scale,
        },
        lon: Range {
            min: lon_r.min + (ilon as f64 * 1.0 / div) * lon_scale,
            max: lon_r.min + (ilon.wrapping_add(1) as f64 * 1.0 / div) * lon_scale,
        },
    }
}

/// `(uint64_t)x` as x86-64 code computes it: truncation through a signed
/// conversion, so a negative score wraps (-5 becomes 2^64-5) and values out
/// of range give the conversion's "indefinite" result. Only scores not
/// written by GEOADD (ZADD'ed ones) get there.
fn c_to_u64(x: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    let cvt = |v: f64| {
        if (-TWO63..TWO63).contains(&v) {
            v as i64
        } else {
            i64::MIN
        }
    };
    if x < TWO63 {
        cvt(x) as u64
    } else {
        (cvt(x - TWO63) as u64) ^ (1 << 63)
    }
}

/// The (longitude, latitude) a score stands for: the centre of its cell
/// (decodeGeohash).
pub fn decode_score(score: f64) -> (f64, f64) {
    let area = decode(
        LON_RANGE,
        LAT_RANGE,
        Hash {
            bits: c_to_u64(score),
            step: STEP_MAX,
        },
    );
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// GEOHASH's standard 11-character string: the position re-encoded over
/// latitudes -90..90, the last character always '0'.
pub fn to_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(LON_RANGE, std_lat, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

fn deg_rad(d: f64) -> f64 {
    d * D_R
}

fn rad_deg(r: f64) -> f64 {
    r / D_R
}

/// Haversine distance in meters (geohashGetDistance, Redis 7.0).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lat1r = deg_rad(lat1);
    let lon1r = deg_rad(lon1);
    let lat2r = deg_rad(lat2);
    let lon2r = deg_rad(lon2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// What a search covers, in meters once multiplied by `conversion`.
#[derive(Clone, Copy)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

pub struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    /// Meters per unit (m, km, ft, mi).
    pub conversion: f64,
}

impl Search {
    /// The distance from the centre in meters when (lon, lat) lies in the
    /// shape (geoWithinShape).
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.conversion).then_some(d)
            }
            Shape::Box { width, height } => {
                let lon_d = distance(lon, lat, self.lon, lat);
                let lat_d = distance(lon, lat, lon, self.lat);
                if lon_d > width * self.conversion / 2.0 || lat_d > height * self.conversion / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// geohashBoundingBox: [min lon, min lat, max lon, max lat].
    fn bounding_box(&self) -> [f64; 4] {
        let (h, w) = match self.shape {
            Shape::Radius(r) => (r, r),
            Shape::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let lon_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat + lat_delta).cos());
        let lon_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat - lat_delta).cos());
        let delta = if self.lat < 0.0 {
            lon_delta_bottom
        } else {
            lon_delta_top
        };
        [
            self.lon - delta,
            self.lat - lat_delta,
            self.lon + delta,
            self.lat + lat_delta,
        ]
    }

    /// The score ranges [min, max) to scan, in Redis's order (the centre
    /// box, then N, S, E, W, NE, NW, SE, SW), skipping boxes the search
    /// cannot reach and repeats of the previously scanned box
    /// (geohashCalculateAreasByShapeWGS84 + membersOfAllNeighbors).
    pub fn boxes(&self) -> Vec<(f64, f64)> {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let radius = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius, self.lat);
        let mut hash = encode(LON_RANGE, LAT_RANGE, self.lon, self.lat, steps).unwrap_or(Hash {
            bits: 0,
            step: steps,
        });
        let mut n = neighbors(hash);
        let decrease = {
            let north = decode(LON_RANGE, LAT_RANGE, n[0]);
            let south = decode(LON_RANGE, LAT_RANGE, n[1]);
            let east = decode(LON_RANGE, LAT_RANGE, n[2]);
            let west = decode(LON_RANGE, LAT_RANGE, n[3]);
            north.lat.max < max_lat
                || south.lat.min > min_lat
                || east.lon.max < max_lon
                || west.lon.min > min_lon
        };
        if steps > 1 && decrease {
            steps -= 1;
            hash = encode(LON_RANGE, LAT_RANGE, self.lon, self.lat, steps).unwrap_or(Hash {
                bits: 0,
                step: steps,
            });
            n = neighbors(hash);
        }
        let area = decode(LON_RANGE, LAT_RANGE, hash);
        // n: north, south, east, west, north_east, north_west, south_east, south_west.
        if steps >= 2 {
            let mut zero = |idx: &[usize]| idx.iter().for_each(|&i| n[i] = Hash::ZERO);
            if area.lat.min < min_lat {
                zero(&[1, 7, 6]);
            }
            if area.lat.max > max_lat {
                zero(&[0, 4, 5]);
            }
            if area.lon.min < min_lon {
                zero(&[3, 7, 5]);
            }
            if area.lon.max > max_lon {
                zero(&[2, 6, 4]);
            }
        }
        let all: [Hash; 9] = [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]];
        let mut out = Vec::with_capacity(9);
        let mut last = 0;
        for (i, h) in all.iter().enumerate() {
            if h.is_zero() || (last != 0 && *h == all[last]) {
                continue;
            }
            let next = Hash {
                bits: h.bits.wrapping_add(1),
                step: h.step,
            };
            out.push((h.align52() as f64, next.align52() as f64));
            last = i;
        }
        out
    }
}

fn estimate_steps(mut range: f64, lat: f64) -> u8 {
    if range == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

fn move_x(h: &mut Hash, d: i8) {
    move_axis(h, d, 0xaaaaaaaaaaaaaaaa);
}

fn move_y(h: &mut Hash, d: i8) {
    move_axis(h, d, 0x5555555555555555);
}

/// Steps the interleaved coordinate held in the bits of `axis` by one cell
/// (Redis's geohash_move_x/_y): the other axis's bits are filled with ones
/// so the carry or borrow crosses them, then masked off again.
fn move_axis(h: &mut Hash, d: i8, axis: u64) {
    if d == 0 {
        return;
    }
    let mut moved = h.bits & axis;
    let other = h.bits & !axis;
    let shift = 64 - h.step as u32 * 2;
    let zz = !axis >> shift;
    if d > 0 {
        moved = moved.wrapping_add(zz + 1);
    } else {
        moved |= zz;
        moved = moved.wrapping_sub(zz + 1);
    }
    moved &= axis >> shift;
    h.bits = moved | other;
}

/// north, south, east, west, north_east, north_west, south_east, south_west.
fn neighbors(h: Hash) -> [Hash; 8] {
    let moves: [(i8, i8); 8] = [
        (0, 1),
        (0, -1),
        (1, 0),
        (-1, 0),
        (1, 1),
        (-1, 1),
        (1, -1),
        (-1, -1),
    ];
    moves.map(|(dx, dy)| {
        let mut n = h;
        move_x(&mut n, dx);
        move_y(&mut n, dy);
        n
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_round_trip_matches_redis() {
        let bits = encode_wgs84(13.361389, 38.115556).unwrap();
        assert_eq!(bits, 3479099956230698);
        let (lon, lat) = decode_score(bits as f64);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        assert_eq!(&to_string(bits as f64), b"sqc8b49rny0");
    }

    #[test]
    fn haversine_matches_redis() {
        let (a, b) = (
            decode_score(3479099956230698.0),
            decode_score(3479447370796909.0),
        );
        let d = distance(a.0, a.1, b.0, b.1);
        assert_eq!(format!("{d:.4}"), "166274.1516");
    }

    #[test]
    fn interleave_round_trips() {
        let v = interleave64(0x3ff_ffff, 0x155_5555);
        let sep = deinterleave64(v);
        assert_eq!((sep as u32, (sep >> 32) as u32), (0x3ff_ffff, 0x155_5555));
    }
}
