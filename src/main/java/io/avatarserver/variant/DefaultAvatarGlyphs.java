package io.avatarserver.variant;

import java.awt.Font;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.font.TextLayout;
import java.util.List;
import java.util.Optional;

/**
 * Where the letters of an initials avatar come from: a font through the JDK's AWT ({@link #font()}),
 * or the built-in stroke font ({@link DefaultAvatarStrokeFont}), which needs no font installed.
 * Outlines are in the source's own units, y pointing down; {@link DefaultAvatars} scales them by
 * {@link #capHeight()} and centres them, so both sources give letters of the same size.
 *
 * <p>The AWT font system throws {@link Error}s on a machine without fonts or fontconfig ("Probable
 * fatal error: No physical fonts found", {@code UnsatisfiedLinkError}, {@code InternalError}); the
 * caller catches them and falls back to the built-in font.
 */
interface DefaultAvatarGlyphs {

  /**
   * The outline of these graphemes side by side, or empty when this source cannot draw every one of
   * them.
   */
  Optional<Shape> outline(List<String> graphemes);

  /** The height of a capital H, in the units of {@link #outline}. */
  double capHeight();

  /** The JDK's logical bold sans-serif font (through fontconfig, with its fallbacks for other scripts). */
  static DefaultAvatarGlyphs font() {
    return new AwtFont(new Font(Font.SANS_SERIF, Font.BOLD, 100));
  }

  /** The built-in stroke font: A to Z, 0 to 9 and "?", drawn with lines and curves, no font needed. */
  static DefaultAvatarGlyphs builtIn() {
    return DefaultAvatarStrokeFont.INSTANCE;
  }

  /** A font drawn by the JDK: shaped with {@link TextLayout}, so combining marks sit where they belong. */
  final class AwtFont implements DefaultAvatarGlyphs {
    /** Keeps two initials from joining into one shape in joining scripts (Arabic), invisible elsewhere. */
    private static final String NON_JOINER = "\u200C";

    private final Font font;
    private final FontRenderContext context = new FontRenderContext(null, true, true);
    private volatile double capHeight;

    AwtFont(Font font) {
      this.font = font;
    }

    @Override
    public Optional<Shape> outline(List<String> graphemes) {
      for (String grapheme : graphemes) {
        if (font.canDisplayUpTo(grapheme) != -1) {
          return Optional.empty();
        }
      }
      String text = String.join(NON_JOINER, graphemes);
      return Optional.of(new TextLayout(text, font, context).getOutline(null));
    }

    @Override
    public double capHeight() {
      double h = capHeight;
      if (h == 0) {
        h = new TextLayout("H", font, context).getOutline(null).getBounds2D().getHeight();
        capHeight = h;
      }
      return h;
    }
  }
}
