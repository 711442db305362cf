package io.avatarserver.upload;

import io.avatarserver.upload.image.ImageLimits;

/**
 * The limits one upload is held to. The wiring builds them from the configuration's {@code upload}
 * section, where each field's default is documented.
 *
 * @param maxBytes             largest accepted body in bytes; one byte more is refused as too large
 * @param minBytes             smallest accepted body in bytes
 * @param writeBufferBytes     chunks that arrive during a file write are coalesced into writes of this size
 * @param progressLogBytes     a DEBUG progress line every this many bytes received
 * @param minBytesPerSecond    slowest accepted body rate, averaged over {@code minRateWindowSeconds}; 0: no check
 * @param minRateWindowSeconds the window of that average
 * @param image                what the image itself may be, and whether its metadata is stripped
 */
public record UploadLimits(long maxBytes, int minBytes, int writeBufferBytes, int progressLogBytes,
                           int minBytesPerSecond, int minRateWindowSeconds, ImageLimits image) {
}
