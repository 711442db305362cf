package io.avatarserver.upload;

import io.avatarserver.config.ServerConfig;
import io.avatarserver.upload.image.ImageLimits;

/** The limits one upload is held to; see {@link ServerConfig.Upload} for each field's meaning. */
public record UploadLimits(long maxBytes, int minBytes, int writeBufferBytes, int progressLogBytes,
                           int minBytesPerSecond, int minRateWindowSeconds, ImageLimits image) {

  public static UploadLimits of(ServerConfig.Upload upload) {
    return new UploadLimits(upload.maxBytes(), upload.minBytes(), upload.writeBufferBytes(), upload.progressLogBytes(),
      upload.minBytesPerSecond(), upload.minRateWindowSeconds(),
      new ImageLimits(upload.maxDimension(), upload.maxPixels(), upload.stripMetadata()));
  }
}
