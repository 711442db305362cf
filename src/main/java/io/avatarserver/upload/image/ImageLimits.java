package io.avatarserver.upload.image;

/**
 * What an accepted image may be.
 *
 * @param maxDimension  largest width or height
 * @param maxPixels     largest width × height
 * @param stripMetadata remove privacy-leaking metadata while streaming
 */
public record ImageLimits(int maxDimension, long maxPixels, boolean stripMetadata) {
}
