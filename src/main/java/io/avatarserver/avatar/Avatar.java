package io.avatarserver.avatar;

import java.time.Instant;

/**
 * The metadata row of a user's current avatar. {@code storageKey} names the bytes in the storage;
 * {@code version} grows by one with each new avatar of the user, across deletions too
 * (so a version names one image for good); {@code width} and {@code height} are the image's size in
 * pixels, read from its header as it streamed in (null only in rows stored before the server read them).
 */
public record Avatar(long userId, String storageKey, String contentType, long size, String sha256,
                     Integer width, Integer height, long version, Instant updatedAt) {
}
