package io.avatarserver.variant;

/** A variant's row: its key, the stored object holding its bytes, their length and SHA-256. */
public record StoredVariant(VariantKey key, String storageKey, long size, String sha256) {
}
