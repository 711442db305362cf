package io.avatarserver.avatar;

import java.time.Instant;

/** A user who may own an avatar. */
public record User(long id, String name, Instant createdAt) {
}
