package io.avatarserver.upload.image;

import java.nio.charset.StandardCharsets;

/**
 * WebP (RIFF, RFC 9649): chunk by chunk within the RIFF size. Dimensions from VP8X (the canvas), or
 * else from the VP8 or VP8L bitstream header. Dropped: EXIF and XMP chunks; an EXIF orientation other
 * than 1 is written back as a minimal EXIF chunk. Since the RIFF size and the VP8X flags come first
 * but what is dropped comes last, both are patched at the end. Data beyond the RIFF size is trailing.
 */
final class WebpParser extends ImageParser {

  private static final int FLAG_EXIF = 0x08;
  private static final int FLAG_XMP = 0x04;

  private long riffLeft;
  private boolean changed;
  private long vp8xFlagsAt = -1;
  private int vp8xFlags;
  private boolean exifWritten;

  WebpParser(ImageLimits limits) {
    super(limits);
  }

  @Override
  protected void start() {
    collect(12, header -> {
      long riffSize = u32le(header, 4);
      if (riffSize < 12 || (riffSize & 1) != 0) {
        throw refuse("The WebP RIFF size is inconsistent");
      }
      riffLeft = riffSize - 4;
      emit(header);
      chunk();
    });
  }

  private void chunk() {
    if (riffLeft == 0) {
      end();
      return;
    }
    if (riffLeft < 8) {
      throw refuse("The WebP RIFF size is inconsistent");
    }
    collect(8, head -> {
      String fourcc = new String(head, 0, 4, StandardCharsets.ISO_8859_1);
      long size = u32le(head, 4);
      long padded = size + (size & 1);
      riffLeft -= 8 + padded;
      if (riffLeft < 0) {
        throw refuse("A WebP chunk runs past the RIFF size");
      }
      switch (fourcc) {
        case "VP8X" -> collect((int) Math.min(padded, 64), data -> {
          if (size < 10) {
            throw refuse("The WebP VP8X header is too short");
          }
          dimensions(u24le(data, 4) + 1L, u24le(data, 7) + 1L);
          vp8xFlags = data[0] & 0xff;
          if (stripMetadata() && (vp8xFlags & (FLAG_EXIF | FLAG_XMP)) != 0) {
            data[0] = (byte) (vp8xFlags & ~(FLAG_EXIF | FLAG_XMP));
            changed = true;
          }
          emit(head);
          vp8xFlagsAt = written();
          emit(data);
          copy(padded - data.length, this::chunk);
        });
        case "VP8 " -> collect((int) Math.min(padded, 10), data -> {
          if (data.length < 10 || (data[3] & 0xff) != 0x9D || (data[4] & 0xff) != 0x01 || (data[5] & 0xff) != 0x2A) {
            throw refuse("The WebP VP8 frame header is corrupt");
          }
          dimensions(u16le(data, 6) & 0x3FFF, u16le(data, 8) & 0x3FFF);
          emit(head);
          emit(data);
          copy(padded - data.length, this::chunk);
        });
        case "VP8L" -> collect((int) Math.min(padded, 5), data -> {
          if (data.length < 5 || (data[0] & 0xff) != 0x2F) {
            throw refuse("The WebP VP8L header is corrupt");
          }
          long bits = u32le(data, 1);
          dimensions((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
          emit(head);
          emit(data);
          copy(padded - data.length, this::chunk);
        });
        case "ANMF" -> collect((int) Math.min(padded, 16), data -> {
          if (data.length < 16) {
            throw refuse("A WebP animation frame header is too short");
          }
          checkDimensions(u24le(data, 6) + 1L, u24le(data, 9) + 1L);
          emit(head);
          emit(data);
          copy(padded - data.length, this::chunk);
        });
        case "EXIF" -> {
          if (!stripMetadata()) {
            keep(head, padded);
          } else {
            int prefix = (int) Math.min(padded, METADATA_PREFIX);
            collect(prefix, data -> {
              int offset = startsWith(data, "Exif\0\0") ? 6 : 0;
              int orientation = Exif.orientation(data, offset, data.length - offset);
              changed = true;
              // Only the extended format (VP8X first) may carry EXIF.
              if (orientation > 1 && !exifWritten && vp8xFlagsAt >= 0) {
                byte[] tiff = Exif.minimalTiff(orientation);
                emit(new byte[] {'E', 'X', 'I', 'F', (byte) tiff.length, 0, 0, 0});
                emit(tiff);
                exifWritten = true;
              }
              drop(padded - prefix, this::chunk);
            });
          }
        }
        case "XMP " -> {
          if (stripMetadata()) {
            changed = true;
            drop(padded, this::chunk);
          } else {
            keep(head, padded);
          }
        }
        default -> keep(head, padded);
      }
    });
  }

  private void keep(byte[] head, long padded) {
    emit(head);
    copy(padded, this::chunk);
  }

  @Override
  protected void finished() {
    if (!changed) {
      return;
    }
    long riffSize = written() - 8;
    patch(4, new byte[] {(byte) riffSize, (byte) (riffSize >> 8), (byte) (riffSize >> 16), (byte) (riffSize >> 24)});
    if (vp8xFlagsAt >= 0) {
      int flags = vp8xFlags & ~(FLAG_EXIF | FLAG_XMP);
      if (exifWritten) {
        flags |= FLAG_EXIF;
      }
      patch(vp8xFlagsAt, new byte[] {(byte) flags});
    }
  }
}
