//! GFP flag bits and their `%pGg` rendering (include/linux/gfp_types.h; names and their matching order from
//! include/trace/events/mmflags.h:`__def_gfpflag_names`; the rendering from lib/vsprintf.c:`format_flags`).
//!
//! Bits are those of a distribution kernel without CONFIG_KASAN_HW_TAGS, CONFIG_LOCKDEP and CONFIG_SLAB_OBJ_EXT
//! (those configs add __GFP_SKIP_ZERO, __GFP_SKIP_KASAN, __GFP_NOLOCKDEP, __GFP_NO_OBJ_EXT above bit 23; without
//! them those flags are 0). This matches real logs such as `gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)`.

/// A gfp mask (the kernel's `gfp_t`, 32 bits used).
pub type GfpMask = u32;

pub const __GFP_DMA: GfpMask = 1 << 0;
pub const __GFP_HIGHMEM: GfpMask = 1 << 1;
pub const __GFP_DMA32: GfpMask = 1 << 2;
pub const __GFP_MOVABLE: GfpMask = 1 << 3;
pub const __GFP_RECLAIMABLE: GfpMask = 1 << 4;
pub const __GFP_HIGH: GfpMask = 1 << 5;
pub const __GFP_IO: GfpMask = 1 << 6;
pub const __GFP_FS: GfpMask = 1 << 7;
pub const __GFP_ZERO: GfpMask = 1 << 8;
// bit 9 is unused in 6.x
pub const __GFP_DIRECT_RECLAIM: GfpMask = 1 << 10;
pub const __GFP_KSWAPD_RECLAIM: GfpMask = 1 << 11;
pub const __GFP_WRITE: GfpMask = 1 << 12;
pub const __GFP_NOWARN: GfpMask = 1 << 13;
pub const __GFP_RETRY_MAYFAIL: GfpMask = 1 << 14;
pub const __GFP_NOFAIL: GfpMask = 1 << 15;
pub const __GFP_NORETRY: GfpMask = 1 << 16;
pub const __GFP_MEMALLOC: GfpMask = 1 << 17;
pub const __GFP_COMP: GfpMask = 1 << 18;
pub const __GFP_NOMEMALLOC: GfpMask = 1 << 19;
pub const __GFP_HARDWALL: GfpMask = 1 << 20;
pub const __GFP_THISNODE: GfpMask = 1 << 21;
pub const __GFP_ACCOUNT: GfpMask = 1 << 22;
pub const __GFP_ZEROTAGS: GfpMask = 1 << 23;

pub const __GFP_RECLAIM: GfpMask = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
pub const GFP_ATOMIC: GfpMask = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
pub const GFP_KERNEL: GfpMask = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
pub const GFP_KERNEL_ACCOUNT: GfpMask = GFP_KERNEL | __GFP_ACCOUNT;
/// Since ~v6.16 GFP_NOWAIT includes __GFP_NOWARN (vectors-format §4.1 agrees).
pub const GFP_NOWAIT: GfpMask = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
pub const GFP_NOIO: GfpMask = __GFP_RECLAIM;
pub const GFP_NOFS: GfpMask = __GFP_RECLAIM | __GFP_IO;
pub const GFP_USER: GfpMask = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
pub const GFP_DMA: GfpMask = __GFP_DMA;
pub const GFP_DMA32: GfpMask = __GFP_DMA32;
pub const GFP_HIGHUSER: GfpMask = GFP_USER | __GFP_HIGHMEM;
pub const GFP_HIGHUSER_MOVABLE: GfpMask = GFP_HIGHUSER | __GFP_MOVABLE;
pub const GFP_TRANSHUGE_LIGHT: GfpMask =
    (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & !__GFP_RECLAIM;
pub const GFP_TRANSHUGE: GfpMask = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/// `%pGg` names in the order the kernel tries them: composite masks first (most bits first), then single bits.
pub const GFPFLAG_NAMES: &[(GfpMask, &str)] = &[
    (GFP_TRANSHUGE, "GFP_TRANSHUGE"),
    (GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT"),
    (GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"),
    (GFP_HIGHUSER, "GFP_HIGHUSER"),
    (GFP_USER, "GFP_USER"),
    (GFP_KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT"),
    (GFP_KERNEL, "GFP_KERNEL"),
    (GFP_NOFS, "GFP_NOFS"),
    (GFP_ATOMIC, "GFP_ATOMIC"),
    (GFP_NOIO, "GFP_NOIO"),
    (GFP_NOWAIT, "GFP_NOWAIT"),
    (GFP_DMA, "GFP_DMA"),
    (GFP_DMA32, "GFP_DMA32"),
    (__GFP_RECLAIM, "__GFP_RECLAIM"),
    (__GFP_DMA, "__GFP_DMA"),
    (__GFP_HIGHMEM, "__GFP_HIGHMEM"),
    (__GFP_DMA32, "__GFP_DMA32"),
    (__GFP_MOVABLE, "__GFP_MOVABLE"),
    (__GFP_RECLAIMABLE, "__GFP_RECLAIMABLE"),
    (__GFP_HIGH, "__GFP_HIGH"),
    (__GFP_IO, "__GFP_IO"),
    (__GFP_FS, "__GFP_FS"),
    (__GFP_ZERO, "__GFP_ZERO"),
    (__GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"),
    (__GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"),
    (__GFP_WRITE, "__GFP_WRITE"),
    (__GFP_NOWARN, "__GFP_NOWARN"),
    (__GFP_RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"),
    (__GFP_NOFAIL, "__GFP_NOFAIL"),
    (__GFP_NORETRY, "__GFP_NORETRY"),
    (__GFP_MEMALLOC, "__GFP_MEMALLOC"),
    (__GFP_COMP, "__GFP_COMP"),
    (__GFP_NOMEMALLOC, "__GFP_NOMEMALLOC"),
    (__GFP_HARDWALL, "__GFP_HARDWALL"),
    (__GFP_THISNODE, "__GFP_THISNODE"),
    (__GFP_ACCOUNT, "__GFP_ACCOUNT"),
    (__GFP_ZEROTAGS, "__GFP_ZEROTAGS"),
];

/// The flags of one gfp token (vectors-format §4.1). Accepts every name of [`GFPFLAG_NAMES`] (a superset of the
/// format's tokens); `None` for an unknown token.
pub fn gfp_token(token: &str) -> Option<GfpMask> {
    GFPFLAG_NAMES.iter().find(|(_, n)| *n == token).map(|(m, _)| *m)
}

/// OR of a list of tokens; the first unknown token is returned as the error.
pub fn gfp_from_tokens<'a, I: IntoIterator<Item = &'a str>>(tokens: I) -> Result<GfpMask, &'a str> {
    let mut mask = 0;
    for t in tokens {
        mask |= gfp_token(t).ok_or(t)?;
    }
    Ok(mask)
}

/// `%pGg` (lib/vsprintf.c:`flags_string` -> `format_flags`): walk the name table in order; every entry whose bits
/// are all still set is printed and its bits cleared; names are joined by `|`; bits no name covers are printed last
/// as `0x<hex>`. A zero mask prints nothing.
pub fn format_gfp_flags(mask: GfpMask) -> String {
    let mut flags = mask;
    let mut out = String::new();
    for &(m, name) in GFPFLAG_NAMES {
        if flags == 0 {
            break;
        }
        if m == 0 || flags & m != m {
            continue;
        }
        out.push_str(name);
        flags &= !m;
        if flags != 0 {
            out.push('|');
        }
    }
    if flags != 0 {
        out.push_str(&format!("{flags:#x}"));
    }
    out
}

/// `%#x(%pGg)` as dump_header prints the mask: the kernel's `%#x` prints `0x0` for zero.
pub fn format_gfp_mask(mask: GfpMask) -> String {
    format!("{:#x}({})", mask, format_gfp_flags(mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_masks_render_like_real_logs() {
        assert_eq!(format_gfp_mask(GFP_HIGHUSER_MOVABLE | __GFP_COMP), "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)");
        assert_eq!(format_gfp_mask(GFP_KERNEL), "0xcc0(GFP_KERNEL)");
        assert_eq!(format_gfp_mask(GFP_NOFS), "0xc40(GFP_NOFS)");
        assert_eq!(format_gfp_mask(GFP_NOIO), "0xc00(GFP_NOIO)");
        assert_eq!(format_gfp_mask(GFP_ATOMIC | __GFP_NOWARN), "0x2820(GFP_ATOMIC|__GFP_NOWARN)");
        assert_eq!(format_gfp_mask(GFP_NOWAIT), "0x2800(GFP_NOWAIT)");
        assert_eq!(format_gfp_mask(GFP_KERNEL | __GFP_NORETRY), "0x10cc0(GFP_KERNEL|__GFP_NORETRY)");
        assert_eq!(format_gfp_mask(GFP_KERNEL_ACCOUNT), "0x400cc0(GFP_KERNEL_ACCOUNT)");
        assert_eq!(format_gfp_mask(GFP_TRANSHUGE), "0x1c24ca(GFP_TRANSHUGE)");
        assert_eq!(format_gfp_mask(GFP_KERNEL | __GFP_DMA32), "0xcc4(GFP_KERNEL|GFP_DMA32)");
        assert_eq!(format_gfp_mask(0), "0x0()");
        assert_eq!(format_gfp_mask(__GFP_KSWAPD_RECLAIM | (1 << 9)), "0xa00(__GFP_KSWAPD_RECLAIM|0x200)");
        assert_eq!(format_gfp_mask(1 << 9), "0x200(0x200)");
    }

    #[test]
    fn tokens() {
        assert_eq!(gfp_from_tokens(["GFP_HIGHUSER_MOVABLE"]), Ok(0x100cca));
        assert_eq!(gfp_from_tokens(["GFP_KERNEL", "__GFP_THISNODE"]), Ok(0x200cc0));
        assert_eq!(gfp_from_tokens(["GFP_KERNEL", "bogus"]), Err("bogus"));
        assert_eq!(GFP_NOFS & __GFP_FS, 0);
    }
}
