//! SM3 compression compiled for BMI2: the portable unrolled code, recompiled so every rotate
//! becomes a non-destructive `rorx` (fewer register copies on the critical path).

#![allow(unsafe_code)]

/// Compresses whole 64-byte blocks of `blocks` into `state`; falls back to the portable code
/// if the CPU lacks BMI2 (callers only pick this path when it has it).
pub(super) fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    if std::arch::is_x86_feature_detected!("bmi2") {
        // SAFETY: BMI2 support was detected on the line above.
        unsafe { compress_bmi2(state, blocks) }
    } else {
        super::soft::compress(state, blocks);
    }
}

/// # Safety
/// The CPU must support BMI2.
#[target_feature(enable = "bmi2")]
unsafe fn compress_bmi2(state: &mut [u32; 8], blocks: &[u8]) {
    super::soft::compress_inline(state, blocks);
}
