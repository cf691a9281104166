//! Geo commands through a real client against an in-process server: a
//! large set searched by radius and box (checked against brute force over
//! the same haversine), GEORADIUS ... STORE across shards, and MULTI.

mod common;

use redis::{Commands, Connection};

fn connect() -> (common::Server, Connection) {
    let server = common::start();
    let con = server.con();
    (server, con)
}

/// Redis's haversine on its sphere.
fn haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let r = std::f64::consts::PI / 180.0;
    let (la1, la2) = (lat1 * r, lat2 * r);
    let u = ((la2 - la1) / 2.0).sin();
    let v = ((lon2 * r - lon1 * r) / 2.0).sin();
    2.0 * 6372797.560856 * (u * u + la1.cos() * la2.cos() * v * v).sqrt().asin()
}

/// A 40x40 grid of points around Paris, 0.01 degree apart, stored in a
/// skiplist-encoded sorted set.
fn load_grid(con: &mut Connection) -> Vec<(String, f64, f64)> {
    let mut pts = Vec::new();
    let mut cmd = redis::cmd("GEOADD");
    cmd.arg("grid");
    for i in 0..40 {
        for j in 0..40 {
            let (lon, lat) = (2.0 + i as f64 * 0.01, 48.6 + j as f64 * 0.01);
            let name = format!("p{i}_{j}");
            cmd.arg(lon).arg(lat).arg(&name);
            pts.push((name, lon, lat));
        }
    }
    let added: usize = cmd.query(con).unwrap();
    assert_eq!(added, 1600);
    pts
}

#[test]
fn radius_search_matches_brute_force() {
    let (_h, mut con) = connect();
    let pts = load_grid(&mut con);
    let (clon, clat) = (2.2, 48.8);
    for radius_km in [0.5, 1.0, 3.7, 12.0] {
        let got: Vec<(String, String)> = redis::cmd("GEOSEARCH")
            .arg("grid")
            .arg("FROMLONLAT")
            .arg(clon)
            .arg(clat)
            .arg("BYRADIUS")
            .arg(radius_km)
            .arg("km")
            .arg("ASC")
            .arg("WITHDIST")
            .query(&mut con)
            .unwrap();
        // Stored positions are the cell centres: compare through GEOPOS-level
        // precision by allowing points within a meter of the edge either way.
        let inside: Vec<&String> = pts
            .iter()
            .filter(|(_, lon, lat)| haversine(clon, clat, *lon, *lat) <= radius_km * 1000.0 - 1.0)
            .map(|(n, _, _)| n)
            .collect();
        for name in &inside {
            assert!(
                got.iter().any(|(n, _)| n == *name),
                "{name} missing at {radius_km} km"
            );
        }
        let dists: Vec<f64> = got.iter().map(|(_, d)| d.parse().unwrap()).collect();
        assert!(dists.windows(2).all(|w| w[0] <= w[1]), "not ascending");
        assert!(dists.iter().all(|&d| d <= radius_km));
        assert!(got.len() <= inside.len() + 8);
    }
}

#[test]
fn box_search_and_count_any() {
    let (_h, mut con) = connect();
    load_grid(&mut con);
    // 2.2 km wide x 1.2 km high around a grid point: longitude steps are
    // ~0.73 km at this latitude, latitude steps ~1.11 km.
    let got: Vec<String> = redis::cmd("GEOSEARCH")
        .arg("grid")
        .arg("FROMMEMBER")
        .arg("p20_20")
        .arg("BYBOX")
        .arg(2.2)
        .arg(1.2)
        .arg("km")
        .arg("ASC")
        .query(&mut con)
        .unwrap();
    assert_eq!(got[0], "p20_20");
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["p19_20", "p20_20", "p21_20"]);
    let any: Vec<String> = redis::cmd("GEOSEARCH")
        .arg("grid")
        .arg("FROMMEMBER")
        .arg("p20_20")
        .arg("BYRADIUS")
        .arg(50)
        .arg("km")
        .arg("COUNT")
        .arg(5)
        .arg("ANY")
        .query(&mut con)
        .unwrap();
    assert_eq!(any.len(), 5);
}

#[test]
fn georadius_store_across_shards_and_in_multi() {
    let (_h, mut con) = connect();
    let _: () = con
        .geo_add(
            "shops",
            &[
                (redis::geo::Coord::lon_lat(13.361389, 38.115556), "Palermo"),
                (redis::geo::Coord::lon_lat(15.087269, 37.502669), "Catania"),
            ],
        )
        .unwrap();
    // Destinations hashing to many shards.
    for i in 0..50 {
        let dst = format!("near:{i}");
        let n: i64 = redis::cmd("GEORADIUS")
            .arg("shops")
            .arg(15)
            .arg(37)
            .arg(200)
            .arg("km")
            .arg("STOREDIST")
            .arg(&dst)
            .query(&mut con)
            .unwrap();
        assert_eq!(n, 2);
        let d: f64 = con.zscore(&dst, "Catania").unwrap();
        assert!((d - 56.4413).abs() < 1e-3, "{d}");
    }
    let (n, dist): (i64, String) = redis::pipe()
        .atomic()
        .cmd("GEOSEARCHSTORE")
        .arg("copy")
        .arg("shops")
        .arg("FROMLONLAT")
        .arg(15)
        .arg(37)
        .arg("BYRADIUS")
        .arg(100)
        .arg("km")
        .cmd("GEODIST")
        .arg("shops")
        .arg("Palermo")
        .arg("Catania")
        .arg("km")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(dist, "166.2742");
    let score: f64 = con.zscore("copy", "Catania").unwrap();
    assert_eq!(score, 3479447370796909.0);
}
