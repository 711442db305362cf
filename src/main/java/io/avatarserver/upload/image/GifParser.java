package io.avatarserver.upload.image;

/**
 * GIF (87a/89a): block by block. Dimensions from the logical screen descriptor; every image
 * descriptor is checked too, since a small screen may hold a huge frame. Comment extensions are
 * dropped; everything else is copied; the image ends with the trailer (0x3B).
 */
final class GifParser extends ImageParser {

  GifParser(ImageLimits limits) {
    super(limits);
  }

  @Override
  protected void start() {
    collect(13, header -> {
      dimensions(u16le(header, 6), u16le(header, 8));
      emit(header);
      copy(colourTable(header[10]), this::block);
    });
  }

  private static int colourTable(byte flags) {
    return (flags & 0x80) != 0 ? 3 * (1 << ((flags & 0x07) + 1)) : 0;
  }

  private void block() {
    collect(1, introducer -> {
      switch (introducer[0] & 0xff) {
        case 0x2C -> collect(9, descriptor -> {
          checkDimensions(u16le(descriptor, 4), u16le(descriptor, 6));
          emit(introducer);
          emit(descriptor);
          copy(colourTable(descriptor[8]), () -> copy(1, () -> subBlocks(true, this::block)));
        });
        case 0x21 -> collect(1, label -> {
          boolean comment = (label[0] & 0xff) == 0xFE && stripMetadata();
          if (!comment) {
            emit(introducer);
            emit(label);
          }
          subBlocks(!comment, this::block);
        });
        case 0x3B -> {
          emit(introducer);
          end();
        }
        default -> throw refuse("A GIF block is corrupt");
      }
    });
  }

  /** Data sub-blocks: a size byte, that many bytes, until a zero size. */
  private void subBlocks(boolean keep, Runnable then) {
    collect(1, size -> {
      int n = size[0] & 0xff;
      if (keep) {
        emit(size);
      }
      if (n == 0) {
        then.run();
      } else if (keep) {
        copy(n, () -> subBlocks(true, then));
      } else {
        drop(n, () -> subBlocks(false, then));
      }
    });
  }
}
