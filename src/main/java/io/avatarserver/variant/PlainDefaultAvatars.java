package io.avatarserver.variant;

import io.avatarserver.avatar.User;
import io.vertx.core.Future;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stand-in {@link DefaultAvatarSource} until the real one ({@code DefaultAvatars}: identicons,
 * initials, a silhouette) is wired: every kind is one flat grey PNG per size, rendered once on the
 * render pool and cached (sizes are snapped to the configured list, so the cache is bounded).
 */
public final class PlainDefaultAvatars implements DefaultAvatarSource {

  private final RenderPool pool;
  private final Map<Integer, Future<Image>> bySize = new ConcurrentHashMap<>();

  public PlainDefaultAvatars(RenderPool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Image> render(String kind, User user, int size) {
    return bySize.computeIfAbsent(size, s -> pool.execute(() -> {
      BufferedImage image = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = image.createGraphics();
      g.setColor(new Color(0xBD, 0xBD, 0xBD));
      g.fillRect(0, 0, s, s);
      g.dispose();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(image, "png", out);
      return new Image(out.toByteArray(), "\"default-plain-" + s + "\"", "image/png");
    }).onFailure(err -> bySize.remove(s)));
  }
}
