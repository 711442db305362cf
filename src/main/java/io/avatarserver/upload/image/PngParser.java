package io.avatarserver.upload.image;

/**
 * PNG (ISO/IEC 15948): chunk by chunk. Dimensions from IHDR, which must come first. Dropped: the
 * text chunks (tEXt, zTXt, iTXt) and eXIf, whose orientation, when not 1, is written back as a
 * minimal eXIf chunk. Everything else, pixels and colour chunks (iCCP, gAMA…) included, is copied
 * unchanged; the image ends with IEND.
 */
final class PngParser extends ImageParser {

  private static final java.util.Set<String> TEXT = java.util.Set.of("tEXt", "zTXt", "iTXt");
  private boolean first = true;
  private boolean exifWritten;

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
      String type = new String(head, 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (length > 0x7FFFFFFFL) {
        throw refuse("A PNG chunk length is out of range");
      }
      if (first) {
        first = false;
        if (!type.equals("IHDR") || length != 13) {
          throw refuse("A PNG must start with its IHDR header");
        }
        collect(13 + 4, ihdr -> {
          dimensions(u32be(ihdr, 0), u32be(ihdr, 4));
          emit(head);
          emit(ihdr);
          chunk();
        });
        return;
      }
      if (type.equals("IEND")) {
        emit(head);
        copy(length + 4, this::end);
      } else if (stripMetadata() && TEXT.contains(type)) {
        drop(length + 4, this::chunk);
      } else if (stripMetadata() && type.equals("eXIf")) {
        exif(length);
      } else {
        emit(head);
        copy(length + 4, this::chunk);
      }
    });
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
