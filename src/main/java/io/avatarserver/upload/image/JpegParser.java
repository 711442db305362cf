package io.avatarserver.upload.image;

import io.vertx.core.buffer.Buffer;

/**
 * JPEG (ITU T.81): segment by segment up to each scan, then the entropy-coded data byte by byte to
 * find the next marker. Dimensions come from the first SOF0–SOF15 frame header, wherever it is (after
 * APPn segments of any size). Kept: JFIF/JFXX (APP0), ICC profiles (APP2 "ICC_PROFILE"), Adobe
 * (APP14) and every coding segment. Dropped: EXIF (APP1), replaced by a minimal EXIF holding only the
 * orientation when it is not 1; XMP (APP1); comments (COM); every other APPn (IPTC in APP13, MPF…).
 */
final class JpegParser extends ImageParser {

  private static final int SOI = 0xD8;
  private static final int EOI = 0xD9;
  private static final int SOS = 0xDA;
  private static final int COM = 0xFE;
  private static final int APP0 = 0xE0;
  private static final int APP1 = 0xE1;
  private static final int APP2 = 0xE2;
  private static final int APP14 = 0xEE;

  /** A frame header holds 6 bytes and 3 per component, of which there are at most 255 (T.81 B.2.2). */
  private static final int MAX_FRAME_HEADER = 6 + 3 * 255;

  private boolean frameSeen;
  /** In entropy-coded data: the previous chunk ended with 0xFF. */
  private boolean pendingFf;

  JpegParser(ImageLimits limits) {
    super(limits);
  }

  @Override
  protected void start() {
    collect(2, soi -> {
      if ((soi[0] & 0xff) != 0xFF || (soi[1] & 0xff) != SOI) {
        throw refuse("Not a JPEG start of image");
      }
      emit(soi);
      marker();
    });
  }

  /** Reads the next marker, skipping 0xFF fill bytes (T.81 B.1.1.2). */
  private void marker() {
    collect(1, ff -> {
      if ((ff[0] & 0xff) != 0xFF) {
        throw refuse("A JPEG marker was expected");
      }
      markerCode();
    });
  }

  private void markerCode() {
    collect(1, code -> {
      int m = code[0] & 0xff;
      if (m == 0xFF) {
        markerCode();
      } else {
        segment(m);
      }
    });
  }

  private void segment(int m) {
    if (m == EOI) {
      if (!frameSeen) {
        throw refuse("The JPEG ends before a frame header");
      }
      emit(new byte[] {(byte) 0xFF, (byte) EOI});
      end();
      return;
    }
    if (m == SOI || m == 0x00) {
      throw refuse("An unexpected JPEG marker");
    }
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
      emit(new byte[] {(byte) 0xFF, (byte) m});
      marker();
      return;
    }
    collect(2, len -> {
      int length = u16be(len, 0);
      if (length < 2) {
        throw refuse("A JPEG segment length is out of range");
      }
      int payload = length - 2;
      byte[] head = {(byte) 0xFF, (byte) m, len[0], len[1]};
      if (isFrameHeader(m)) {
        if (payload > MAX_FRAME_HEADER) {
          throw refuse("A JPEG frame header is too long");
        }
        collect(payload, frame -> {
          if (payload < 6) {
            throw refuse("A JPEG frame header is too short");
          }
          dimensions(u16be(frame, 3), u16be(frame, 1));
          frameSeen = true;
          emit(head);
          emit(frame);
          marker();
        });
      } else if (m == SOS) {
        if (!frameSeen) {
          throw refuse("A JPEG scan comes before its frame header");
        }
        emit(head);
        copy(payload, () -> {
          pendingFf = false;
          scanMode();
        });
      } else if (stripMetadata() && (m == APP1 || m == COM || (m >= 0xE3 && m <= 0xEF && m != APP14))) {
        applicationSegment(m, payload);
      } else if (stripMetadata() && (m == APP2 || m == APP14)) {
        // Only the identifier is held: an ICC profile (up to 64 KiB a segment) streams through.
        String id = m == APP2 ? "ICC_PROFILE\0" : "Adobe";
        collect(Math.min(payload, id.length()), data -> {
          if (startsWith(data, id)) {
            emit(head);
            emit(data);
            copy(payload - data.length, this::marker);
          } else {
            drop(payload - data.length, this::marker);
          }
        });
      } else {
        // APP0 (JFIF), DQT, DHT, DRI, … and everything when stripping is off: through unchanged.
        emit(head);
        copy(payload, this::marker);
      }
    });
  }

  /** APP1 (EXIF, XMP), COM and other APPn: dropped; an EXIF orientation other than 1 is written back. */
  private void applicationSegment(int m, int payload) {
    if (m != APP1) {
      drop(payload, this::marker);
      return;
    }
    int prefix = Math.min(payload, METADATA_PREFIX);
    collect(prefix, data -> {
      if (startsWith(data, "Exif\0\0")) {
        int orientation = Exif.orientation(data, 6, data.length - 6);
        if (orientation > 1) {
          byte[] tiff = Exif.minimalTiff(orientation);
          int length = 2 + 6 + tiff.length;
          emit(new byte[] {(byte) 0xFF, (byte) APP1, (byte) (length >> 8), (byte) length});
          emit("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          emit(tiff);
        }
      }
      drop(payload - prefix, this::marker);
    });
  }

  private static boolean isFrameHeader(int m) {
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
  }

  /**
   * Entropy-coded data: copied as it comes until a marker that is neither a stuffed 0xFF00 nor a
   * restart marker; then segment parsing resumes (progressive JPEGs have several scans). A 0xFF is
   * held back until the next byte says what it is, so every byte is stored exactly once.
   */
  @Override
  protected int scan(Buffer in, int pos) {
    int length = in.length();
    int run = pos;
    for (int i = pos; i < length; i++) {
      int b = in.getByte(i) & 0xff;
      if (pendingFf) {
        if (b == 0x00 || (b >= 0xD0 && b <= 0xD7)) {
          pendingFf = false;
          emit(FF);
          run = i;
        } else if (b == 0xFF) {
          emit(FF); // fill byte before a marker
          run = i + 1;
        } else {
          pendingFf = false;
          segment(b);
          return i + 1;
        }
      } else if (b == 0xFF) {
        emit(in, run, i - run);
        pendingFf = true;
        run = i + 1;
      }
    }
    if (length > run) {
      emit(in, run, length - run);
    }
    return length;
  }

  private static final byte[] FF = {(byte) 0xFF};
}
