//! mm/page_alloc.c: physical frames, zones, watermarks and the allocation slow path.

pub mod frames;
pub mod zone;

pub use frames::FrameAllocator;
