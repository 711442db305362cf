package io.avatarserver.upload.image;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * PNG (ISO/IEC 15948, W3C PNG third edition), chunk by chunk, storing only what renders the image.
 *
 * <p>Structure checked: IHDR first and once, with a bit depth allowed for its colour type (table
 * 11.1), compression and filter method 0, interlace 0 or 1; PLTE at most once, before the image
 * data, required for indexed colour and refused for greyscale; the IDAT chunks consecutive, at least
 * one, and their data starting with a zlib header (deflate, no preset dictionary, valid check bits;
 * the data is not inflated); APNG frames (fcTL) inside the canvas and within the pixel limits; IEND
 * last and empty. Every chunk type is four ASCII letters; an unknown critical chunk is refused.
 *
 * <p>Stored: IHDR, PLTE, IDAT, IEND and the ancillary chunks that change how the image renders:
 * tRNS, gAMA, cHRM, sRGB, iCCP, cICP, mDCV, cLLI, pHYs and the APNG chunks acTL, fcTL, fdAT. The
 * metadata chunks tEXt, zTXt, iTXt, tIME and eXIf are dropped when metadata is stripped (an eXIf
 * orientation other than 1 is written back as a minimal eXIf chunk) and kept otherwise. Every other
 * ancillary chunk (bKGD, hIST, sBIT, sPLT, oFFs, private and unknown ones, which is where a
 * {@code <script>} or a second file would hide) is always dropped. Chunk CRCs are not checked.
 */
final class PngParser extends ImageParser {

  private static final Set<String> RENDER = Set.of(
    "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP", "mDCV", "cLLI", "pHYs", "acTL", "fcTL", "fdAT");
  private static final Set<String> METADATA = Set.of("tEXt", "zTXt", "iTXt", "tIME", "eXIf");
  private static final int FCTL_LENGTH = 26;

  private enum ImageData { BEFORE, IN, AFTER }

  private boolean first = true;
  private boolean exifWritten;
  private long canvasWidth;
  private long canvasHeight;
  private int colourType;
  private boolean palette;
  private ImageData imageData = ImageData.BEFORE;
  /** The first two bytes of the zlib stream, which may be split over IDAT chunks. */
  private final byte[] zlibHeader = new byte[2];
  private int zlibHeaderRead;

  PngParser(ImageLimits limits) {
    super(limits);
  }

  @Override
  protected void start() {
    collect(8, signature -> {
      emit(signature);
      chunk();
    });
  }

  private void chunk() {
    collect(8, head -> {
      long length = u32be(head, 0);
      String type = new String(head, 4, 4, StandardCharsets.ISO_8859_1);
      if (length > 0x7FFFFFFFL) {
        throw refuse("A PNG chunk length is out of range");
      }
      if (!isChunkType(head)) {
        throw refuse("A PNG chunk type is not four ASCII letters");
      }
      if (first) {
        first = false;
        if (!type.equals("IHDR") || length != 13) {
          throw refuse("A PNG must start with its IHDR header");
        }
        collect(13 + 4, ihdr -> {
          header(ihdr);
          emit(head);
          emit(ihdr);
          chunk();
        });
        return;
      }
      if (imageData == ImageData.IN && !type.equals("IDAT")) {
        imageData = ImageData.AFTER;
      }
      switch (type) {
        case "IHDR" -> throw refuse("A PNG has a second IHDR header");
        case "IDAT" -> idat(head, length);
        case "IEND" -> iend(head, length);
        case "PLTE" -> palette(head, length);
        case "fcTL" -> frameControl(head, length);
        default -> other(head, type, length);
      }
    });
  }

  private static boolean isChunkType(byte[] head) {
    for (int i = 4; i < 8; i++) {
      int c = head[i] & 0xff;
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
        return false;
      }
    }
    return true;
  }

  /** IHDR: dimensions (a pixel flood is refused here), then the fields a decoder relies on. */
  private void header(byte[] ihdr) {
    canvasWidth = u32be(ihdr, 0);
    canvasHeight = u32be(ihdr, 4);
    dimensions(canvasWidth, canvasHeight);
    int bitDepth = ihdr[8] & 0xff;
    colourType = ihdr[9] & 0xff;
    boolean allowed = switch (colourType) {
      case 0 -> bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8 || bitDepth == 16;
      case 3 -> bitDepth == 1 || bitDepth == 2 || bitDepth == 4 || bitDepth == 8;
      case 2, 4, 6 -> bitDepth == 8 || bitDepth == 16;
      default -> false;
    };
    if (!allowed) {
      throw refuse("The PNG header's bit depth " + bitDepth + " and colour type " + colourType + " are not a valid pair");
    }
    if (ihdr[10] != 0 || ihdr[11] != 0 || (ihdr[12] & 0xff) > 1) {
      throw refuse("The PNG header names an unknown compression, filter or interlace method");
    }
  }

  private void palette(byte[] head, long length) {
    if (palette || imageData != ImageData.BEFORE) {
      throw refuse("A PNG palette (PLTE) must come once, before the image data");
    }
    if (colourType == 0 || colourType == 4) {
      throw refuse("A greyscale PNG may not have a palette (PLTE)");
    }
    if (length == 0 || length % 3 != 0 || length > 3 * 256) {
      throw refuse("A PNG palette (PLTE) must hold 1 to 256 RGB entries");
    }
    palette = true;
    emit(head);
    copy(length + 4, this::chunk);
  }

  private void idat(byte[] head, long length) {
    if (imageData == ImageData.AFTER) {
      throw refuse("The PNG image data (IDAT) must be in consecutive chunks");
    }
    if (colourType == 3 && !palette) {
      throw refuse("An indexed-colour PNG has no palette (PLTE) before its image data");
    }
    imageData = ImageData.IN;
    emit(head);
    imageData(length);
  }

  /** The rest of an IDAT chunk's data: the zlib header, if not read yet, is checked on its way. */
  private void imageData(long left) {
    if (zlibHeaderRead == 2 || left == 0) {
      copy(left + 4, this::chunk);
      return;
    }
    int n = (int) Math.min(2 - zlibHeaderRead, left);
    collect(n, bytes -> {
      emit(bytes);
      System.arraycopy(bytes, 0, zlibHeader, zlibHeaderRead, n);
      zlibHeaderRead += n;
      if (zlibHeaderRead == 2) {
        checkZlibHeader();
      }
      imageData(left - n);
    });
  }

  /** RFC 1950 §2.2: deflate (8) with a window of at most 32 KiB, the check bits, no preset dictionary. */
  private void checkZlibHeader() {
    int cmf = zlibHeader[0] & 0xff;
    int flg = zlibHeader[1] & 0xff;
    if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || (cmf * 256 + flg) % 31 != 0 || (flg & 0x20) != 0) {
      throw refuse("The PNG image data (IDAT) is not a zlib stream");
    }
  }

  private void iend(byte[] head, long length) {
    if (zlibHeaderRead < 2) {
      throw refuse("The PNG has no image data (IDAT)");
    }
    if (length != 0) {
      throw refuse("The PNG end chunk (IEND) is not empty");
    }
    emit(head);
    copy(4, this::end);
  }

  /** APNG fcTL: a frame must lie inside the canvas, and is checked against the pixel limits on its own. */
  private void frameControl(byte[] head, long length) {
    if (length != FCTL_LENGTH) {
      throw refuse("An APNG frame control chunk (fcTL) has the wrong length");
    }
    collect(FCTL_LENGTH + 4, fctl -> {
      long w = u32be(fctl, 4);
      long h = u32be(fctl, 8);
      long x = u32be(fctl, 12);
      long y = u32be(fctl, 16);
      checkDimensions(w, h);
      if (x + w > canvasWidth || y + h > canvasHeight) {
        throw refuse("An APNG frame lies outside the image");
      }
      emit(head);
      emit(fctl);
      chunk();
    });
  }

  private void other(byte[] head, String type, long length) {
    if ((head[4] & 0x20) == 0) {
      throw refuse("The PNG has a critical chunk this server does not know");
    }
    if (RENDER.contains(type) || (METADATA.contains(type) && !stripMetadata())) {
      emit(head);
      copy(length + 4, this::chunk);
    } else if (type.equals("eXIf")) {
      exif(length);
    } else {
      drop(length + 4, this::chunk);
    }
  }

  /** eXIf: IFD0 (where the orientation is) comes first, so a bounded prefix is read; the rest is dropped unread. */
  private void exif(long length) {
    int prefix = (int) Math.min(length, METADATA_PREFIX);
    collect(prefix, data -> {
      int orientation = Exif.orientation(data, 0, data.length);
      if (orientation > 1 && !exifWritten) {
        exifWritten = true;
        byte[] tiff = Exif.minimalTiff(orientation);
        byte[] type = {'e', 'X', 'I', 'f'};
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(type);
        crc.update(tiff);
        emit(new byte[] {0, 0, 0, (byte) tiff.length});
        emit(type);
        emit(tiff);
        long value = crc.getValue();
        emit(new byte[] {(byte) (value >> 24), (byte) (value >> 16), (byte) (value >> 8), (byte) value});
      }
      drop(length - prefix + 4, this::chunk);
    });
  }
}
