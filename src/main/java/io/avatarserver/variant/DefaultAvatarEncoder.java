package io.avatarserver.variant;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
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
   * the same image always gives the same bytes.
   */
  DefaultAvatarEncoder PNG = image -> {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
    if (!writers.hasNext()) {
      throw new IOException("no PNG writer in this JDK");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try (ImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.write(null, new IIOImage(image, null, null), null);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  };
}
