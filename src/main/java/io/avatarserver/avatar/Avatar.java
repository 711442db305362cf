package io.avatarserver.avatar;

import java.time.Instant;

/**
 * The metadata row of a user's current avatar. {@code storageKey} names the bytes in the storage;
 * {@code version} starts at 1 and grows by one with each replacement; {@code width} and
 * {@code height} are null until the content-safety work reads them from the image header.
 */
public record Avatar(long userId, String storageKey, String contentType, long size, String sha256,
                     Integer width, Integer height, long version, Instant updatedAt) {
}
