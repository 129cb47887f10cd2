//! What differs between operating systems, one small module per concern, each hiding its
//! `cfg` so no other wing needs one: file identity and change times (`fingerprint`).
//! It uses nothing else of the crate but the vocabulary.

pub mod fingerprint;
