package io.avatarserver.variant;

import java.awt.BasicStroke;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Arc2D;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A tiny stroke font of our own: A to Z, 0 to 9 and "?" as centre lines stroked with round ends, so
 * initials render on a machine without a single font file (a JDK alone, no fontconfig). Glyphs are
 * drawn on a cap height of 10 units, y down, baseline at 10; each is its width and a path in a small
 * language: {@code M x y} move, {@code L x y} line, {@code C x1 y1 x2 y2 x y} cubic curve,
 * {@code E cx cy rx ry} ellipse, {@code R cx cy rx ry start extent} open arc (degrees,
 * counter-clockwise on screen from 3 o'clock, as {@link Arc2D}).
 */
final class DefaultAvatarStrokeFont implements DefaultAvatarGlyphs {
  private static final double CAP_HEIGHT = 10;
  private static final double STROKE = 1.9;
  private static final double GAP = 1.1 + STROKE;

  private static final String[][] GLYPHS = {
    {"A", "7", "M 0 10 L 3.5 0 L 7 10 M 1.3 6.6 L 5.7 6.6"},
    {"B", "5.8", "M 0 5 L 3.3 5 C 5.3 5 5.3 0 3.3 0 L 0 0 L 0 10 L 3.6 10 C 6.2 10 6.2 5 3.6 5"},
    {"C", "6.3", "R 3.6 5 3.6 5 42 276"},
    {"D", "6.2", "M 0 0 L 0 10 L 2.4 10 C 6.6 10 6.6 0 2.4 0 L 0 0"},
    {"E", "5.4", "M 5.4 0 L 0 0 L 0 10 L 5.4 10 M 0 5 L 4.4 5"},
    {"F", "5.4", "M 5.4 0 L 0 0 L 0 10 M 0 5 L 4.4 5"},
    {"G", "6.8", "R 3.6 5 3.6 5 42 270 M 3.9 5.6 L 7 5.6 L 7 8.4"},
    {"H", "6", "M 0 0 L 0 10 M 6 0 L 6 10 M 0 5 L 6 5"},
    {"I", "3", "M 0 0 L 3 0 M 1.5 0 L 1.5 10 M 0 10 L 3 10"},
    {"J", "5", "M 5 0 L 5 7 C 5 10.8 0 10.8 0 7.4"},
    {"K", "6", "M 0 0 L 0 10 M 6 0 L 0 6.2 M 2.2 4 L 6 10"},
    {"L", "5", "M 0 0 L 0 10 L 5 10"},
    {"M", "7.6", "M 0 10 L 0 0 L 3.8 7 L 7.6 0 L 7.6 10"},
    {"N", "6", "M 0 10 L 0 0 L 6 10 L 6 0"},
    {"O", "7.2", "E 3.6 5 3.6 5"},
    {"P", "5.8", "M 0 10 L 0 0 L 3.4 0 C 6.2 0 6.2 5.4 3.4 5.4 L 0 5.4"},
    {"Q", "7.2", "E 3.6 5 3.6 5 M 4.3 7 L 7.2 10.4"},
    {"R", "5.8", "M 0 10 L 0 0 L 3.4 0 C 6.2 0 6.2 5.4 3.4 5.4 L 0 5.4 M 2.8 5.4 L 5.8 10"},
    {"S", "6", "M 5.6 1.6 C 4.8 -0.4 0.3 -0.5 0.3 2.6 C 0.3 5.1 5.8 4.8 5.8 7.4 C 5.8 10.6 1 10.5 0.2 8.3"},
    {"T", "6.4", "M 0 0 L 6.4 0 M 3.2 0 L 3.2 10"},
    {"U", "6", "M 0 0 L 0 6.4 C 0 10.8 6 10.8 6 6.4 L 6 0"},
    {"V", "7", "M 0 0 L 3.5 10 L 7 0"},
    {"W", "9", "M 0 0 L 2.2 10 L 4.5 2.6 L 6.8 10 L 9 0"},
    {"X", "6.4", "M 0 0 L 6.4 10 M 6.4 0 L 0 10"},
    {"Y", "6.6", "M 0 0 L 3.3 5 L 6.6 0 M 3.3 5 L 3.3 10"},
    {"Z", "6", "M 0 0 L 6 0 L 0 10 L 6 10"},
    {"0", "5.6", "E 2.8 5 2.8 5"},
    {"1", "4.4", "M 0.4 2 L 2.4 0 L 2.4 10 M 0.4 10 L 4.4 10"},
    {"2", "5.6", "M 0.2 2.4 C 0.7 -0.7 5.4 -0.7 5.4 2.6 C 5.4 5 0 7.4 0 10 L 5.6 10"},
    {"3", "5.6", "M 0.2 1.3 C 1.6 -0.6 5.3 -0.3 5.3 2.5 C 5.3 4.1 3.9 4.8 2.3 4.8 C 4.1 4.8 5.6 5.7 5.6 7.5"
      + " C 5.6 10.6 1.3 10.8 0 8.8"},
    {"4", "6", "M 4.5 10 L 4.5 0 L 0 7 L 6 7"},
    {"5", "5.6", "M 5.3 0 L 0.8 0 L 0.3 4.6 C 2.5 3.3 5.6 3.8 5.6 7 C 5.6 10.6 1 10.7 0 8.6"},
    {"6", "5.6", "M 5 0.7 C 2.4 -0.6 0 1.2 0 6.6 E 2.8 7.2 2.8 2.8"},
    {"7", "5.6", "M 0 0 L 5.6 0 L 2 10"},
    {"8", "5.6", "E 2.8 2.5 2.4 2.5 E 2.8 7.4 2.8 2.6"},
    {"9", "5.6", "E 2.8 2.8 2.8 2.8 M 5.6 3.4 C 5.6 8.8 3.2 11 0.6 9.3"},
    {"?", "5.2", "M 0.2 2.3 C 0.5 -0.7 5.2 -0.7 5.2 2.4 C 5.2 4.6 2.6 4.7 2.6 7 M 2.6 9.7 L 2.6 9.8"},
  };

  /** After the glyph table: the constructor reads it. */
  static final DefaultAvatarStrokeFont INSTANCE = new DefaultAvatarStrokeFont();

  private final Map<Integer, Glyph> glyphs = new HashMap<>();

  private record Glyph(double width, Shape shape) {
  }

  private DefaultAvatarStrokeFont() {
    BasicStroke stroke = new BasicStroke((float) STROKE, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    for (String[] g : GLYPHS) {
      glyphs.put(g[0].codePointAt(0), new Glyph(Double.parseDouble(g[1]), stroke.createStrokedShape(path(g[2]))));
    }
  }

  /** Whether every character of {@code text} has a glyph here. */
  boolean covers(String text) {
    return text.codePoints().allMatch(glyphs::containsKey);
  }

  @Override
  public Optional<Shape> outline(List<String> graphemes) {
    for (String grapheme : graphemes) {
      if (grapheme.codePointCount(0, grapheme.length()) != 1 || !covers(grapheme)) {
        return Optional.empty();
      }
    }
    Path2D.Double out = new Path2D.Double(Path2D.WIND_NON_ZERO);
    double x = 0;
    for (String grapheme : graphemes) {
      Glyph glyph = glyphs.get(grapheme.codePointAt(0));
      out.append(AffineTransform.getTranslateInstance(x, -CAP_HEIGHT).createTransformedShape(glyph.shape), false);
      x += glyph.width + GAP;
    }
    return Optional.of(out);
  }

  @Override
  public double capHeight() {
    return CAP_HEIGHT;
  }

  private static Path2D path(String spec) {
    Path2D.Double path = new Path2D.Double();
    String[] t = spec.trim().split("\\s+");
    int i = 0;
    while (i < t.length) {
      String op = t[i++];
      switch (op) {
        case "M" -> path.moveTo(d(t[i++]), d(t[i++]));
        case "L" -> path.lineTo(d(t[i++]), d(t[i++]));
        case "C" -> path.curveTo(d(t[i++]), d(t[i++]), d(t[i++]), d(t[i++]), d(t[i++]), d(t[i++]));
        case "E" -> {
          double cx = d(t[i++]), cy = d(t[i++]), rx = d(t[i++]), ry = d(t[i++]);
          path.append(new Ellipse2D.Double(cx - rx, cy - ry, 2 * rx, 2 * ry), false);
        }
        case "R" -> {
          double cx = d(t[i++]), cy = d(t[i++]), rx = d(t[i++]), ry = d(t[i++]);
          double start = d(t[i++]), extent = d(t[i++]);
          path.append(new Arc2D.Double(cx - rx, cy - ry, 2 * rx, 2 * ry, start, extent, Arc2D.OPEN), false);
        }
        default -> throw new IllegalStateException("bad glyph path command " + op + " in " + spec);
      }
    }
    return path;
  }

  private static double d(String s) {
    return Double.parseDouble(s);
  }
}
