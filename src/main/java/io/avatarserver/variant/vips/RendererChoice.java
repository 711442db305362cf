package io.avatarserver.variant.vips;

import io.avatarserver.variant.Renderer;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The render engine the configuration asks for ({@code variants.engine}): {@code java} (the default,
 * needs nothing installed), {@code vips} (libvips must load, else the server must not start), or
 * {@code auto} (libvips when it loads, else java). Call it once at start-up, off the event loop:
 * loading libvips blocks.
 */
public final class RendererChoice {
  private static final Logger LOG = LoggerFactory.getLogger(RendererChoice.class);

  /** The values {@code variants.engine} takes. */
  public enum Engine {
    JAVA, VIPS, AUTO;

    /** {@code java}, {@code vips} or {@code auto}, in any case. */
    public static Engine parse(String value) {
      if (value != null) {
        for (Engine e : values()) {
          if (e.name().equals(value.strip().toUpperCase(Locale.ROOT))) {
            return e;
          }
        }
      }
      throw new IllegalArgumentException("variants.engine must be java, vips or auto, was " + value);
    }
  }

  /** libvips' engine, or why it cannot be had. */
  @FunctionalInterface
  public interface VipsLoader {
    Renderer load() throws VipsUnavailableException;
  }

  private RendererChoice() {
  }

  /**
   * The engine for {@code engine} ({@code java}, {@code vips}, {@code auto}).
   *
   * @throws IllegalArgumentException for any other value
   * @throws IllegalStateException for {@code vips} when libvips cannot be loaded (the message says why
   *     and how to install it)
   */
  public static Renderer choose(String engine, Supplier<Renderer> java) {
    return choose(Engine.parse(engine), java, VipsRenderer::load);
  }

  /** As {@link #choose(String, Supplier)}, with the way libvips is loaded given (tests). */
  public static Renderer choose(Engine engine, Supplier<Renderer> java, VipsLoader vips) {
    switch (engine) {
      case JAVA:
        return java.get();
      case VIPS:
        try {
          Renderer renderer = vips.load();
          LOG.info("variants.engine=vips: rendering with libvips");
          return renderer;
        } catch (VipsUnavailableException e) {
          throw new IllegalStateException("variants.engine is vips, but " + e.getMessage(), e);
        }
      case AUTO:
      default:
        try {
          Renderer renderer = vips.load();
          LOG.info("variants.engine=auto: libvips loaded, rendering with it");
          return renderer;
        } catch (VipsUnavailableException e) {
          LOG.info("variants.engine=auto: rendering with the java engine ({})", e.getMessage());
          return java.get();
        }
    }
  }
}
