package io.avatarserver.avatar;

/** What an upload tells the repository about the bytes it has just stored. */
public record NewAvatar(String storageKey, String contentType, long size, String sha256, Integer width, Integer height) {
}
