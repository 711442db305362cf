package io.avatarserver.variant;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Encodes a rendered default avatar. BLOCKS (CPU): call on a worker thread. {@link #PNG} is built in;
 * another format (WebP) is added by passing its encoder to {@link DefaultAvatars}.
 */
@FunctionalInterface
public interface DefaultAvatarEncoder {

  byte[] encode(BufferedImage image) throws IOException;

  /**
   * PNG through the JDK's ImageIO writer, in memory (never ImageIO's disk cache), without metadata:
   * the same image always gives the same bytes. An opaque image of at most 256 colours (all default
   * avatars: an identicon has two, antialiased initials and the silhouette a few dozen) is written
   * with a palette of 1, 2, 4 or 8 bits per pixel, several times smaller and faster to compress than
   * 24-bit RGB.
   */
  DefaultAvatarEncoder PNG = image -> {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
    if (!writers.hasNext()) {
      throw new IOException("no PNG writer in this JDK");
    }
    BufferedImage palettized = Palette.of(image);
    ImageWriter writer = writers.next();
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try (ImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.write(null, new IIOImage(palettized != null ? palettized : image, null, null), null);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  };

  /** The palette form of an image, for {@link #PNG}. */
  final class Palette {
    private Palette() {
    }

    /**
     * The image with a palette (colours in order of first appearance, so deterministic), or null
     * when it has transparency or more than 256 colours.
     */
    static BufferedImage of(BufferedImage image) {
      if (image.getColorModel().hasAlpha()) {
        return null;
      }
      int width = image.getWidth();
      int height = image.getHeight();
      int[] pixels = image.getType() == BufferedImage.TYPE_INT_RGB
        && image.getRaster().getDataBuffer() instanceof DataBufferInt ints && ints.getNumBanks() == 1
        && ints.getData().length == width * height
        ? ints.getData()
        : image.getRGB(0, 0, width, height, null, 0, width);
      Map<Integer, Integer> index = new HashMap<>();
      int[] colours = new int[256];
      byte[] indices = new byte[pixels.length];
      int previous = -1;
      int previousIndex = 0;
      for (int i = 0; i < pixels.length; i++) {
        int rgb = pixels[i] & 0xFFFFFF;
        if (rgb != previous) {
          Integer known = index.get(rgb);
          if (known == null) {
            if (index.size() == 256) {
              return null;
            }
            known = index.size();
            index.put(rgb, known);
            colours[known] = rgb;
          }
          previous = rgb;
          previousIndex = known;
        }
        indices[i] = (byte) previousIndex;
      }
      int count = index.size();
      int bits = count <= 2 ? 1 : count <= 4 ? 2 : count <= 16 ? 4 : 8;
      byte[] r = new byte[count];
      byte[] g = new byte[count];
      byte[] b = new byte[count];
      for (int i = 0; i < count; i++) {
        r[i] = (byte) (colours[i] >> 16);
        g[i] = (byte) (colours[i] >> 8);
        b[i] = (byte) colours[i];
      }
      IndexColorModel model = new IndexColorModel(bits, count, r, g, b);
      if (bits == 8) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED, model);
        byte[] data = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
        System.arraycopy(indices, 0, data, 0, indices.length);
        return out;
      }
      // 1, 2 or 4 bits: pixels packed from the high bits of each byte, each row from a new byte.
      BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_BINARY, model);
      byte[] data = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
      int stride = (width * bits + 7) / 8;
      int perByte = 8 / bits;
      for (int y = 0; y < height; y++) {
        int row = y * width;
        for (int x = 0; x < width; x++) {
          int shift = 8 - bits * (x % perByte + 1);
          data[y * stride + x / perByte] |= (byte) (indices[row + x] << shift);
        }
      }
      return out;
    }
  }
}
