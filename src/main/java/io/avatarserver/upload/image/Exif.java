package io.avatarserver.upload.image;

/**
 * Just enough EXIF (a TIFF structure, CIPA DC-008) to read the orientation tag from IFD0 and to
 * write a minimal EXIF holding only that tag. Anything malformed reads as "no orientation": a broken
 * EXIF block is dropped, not a reason to refuse the image.
 */
public final class Exif {

  static final int ORIENTATION_TAG = 0x0112;
  private static final int TYPE_SHORT = 3;

  private Exif() {
  }

  /** The orientation (1–8) in a TIFF structure starting at {@code offset}, or 0 when absent or malformed. */
  public static int orientation(byte[] b, int offset, int length) {
    int end = offset + length;
    if (length < 8) {
      return 0;
    }
    boolean little;
    if (b[offset] == 'I' && b[offset + 1] == 'I') {
      little = true;
    } else if (b[offset] == 'M' && b[offset + 1] == 'M') {
      little = false;
    } else {
      return 0;
    }
    long ifd = u32(b, offset + 4, little);
    if (ifd < 8 || offset + ifd + 2 > end) {
      return 0;
    }
    int entries = u16(b, (int) (offset + ifd), little);
    int entry = (int) (offset + ifd + 2);
    for (int i = 0; i < entries && entry + 12 <= end; i++, entry += 12) {
      if (u16(b, entry, little) == ORIENTATION_TAG && u16(b, entry + 2, little) == TYPE_SHORT) {
        int value = u16(b, entry + 8, little);
        return value >= 1 && value <= 8 ? value : 0;
      }
    }
    return 0;
  }

  /** A big-endian TIFF structure whose IFD0 holds only the orientation: 26 bytes. */
  static byte[] minimalTiff(int orientation) {
    return new byte[] {
      'M', 'M', 0, 42, 0, 0, 0, 8,          // header: big-endian, IFD0 at offset 8
      0, 1,                                  // one entry
      0x01, 0x12, 0, TYPE_SHORT, 0, 0, 0, 1, // tag 0x0112, SHORT, count 1
      0, (byte) orientation, 0, 0,           // value, left-justified
      0, 0, 0, 0                             // no next IFD
    };
  }

  private static int u16(byte[] b, int i, boolean little) {
    return little ? (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 : (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
  }

  private static long u32(byte[] b, int i, boolean little) {
    return little
      ? (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24
      : (b[i] & 0xffL) << 24 | (b[i + 1] & 0xffL) << 16 | (b[i + 2] & 0xffL) << 8 | (b[i + 3] & 0xffL);
  }
}
