package io.avatarserver.variant;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Shape;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Default avatars without a server: what {@code d=} parses to, the images (sizes, determinism,
 * symmetry, initials, contrast, the font-less fallback), the PNG bytes and the cache. Pixels are
 * checked on the decoded PNG, as a client sees them.
 */
@DisplayName("DefaultAvatars: identicon, initials and mp, rendered once per size")
class DefaultAvatarsTest {

  private static final VariantFormat PNG = VariantFormat.PNG;
  private static final Map<VariantFormat, DefaultAvatarEncoder> PNG_ONLY = Map.of(PNG, DefaultAvatarEncoder.PNG);

  /** A machine without fonts: the JDK's font system throws one of these from its first use. */
  private static final class NoFonts implements DefaultAvatarGlyphs {
    final AtomicInteger calls = new AtomicInteger();
    private final Throwable failure;

    NoFonts(Throwable failure) {
      this.failure = failure;
    }

    @Override
    public Optional<Shape> outline(List<String> graphemes) {
      calls.incrementAndGet();
      throw sneaky(failure);
    }

    @Override
    public double capHeight() {
      calls.incrementAndGet();
      throw sneaky(failure);
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
      throw (T) t;
    }
  }

  /** What the JDK throws without fonts: with fontconfig and no font, with no font file, without libfreetype. */
  private static List<Throwable> fontFailures() {
    return List.of(
      new InternalError(new RuntimeException("Fontconfig head is null, check your fonts or fonts configuration")),
      new Error("Probable fatal error: No physical fonts found."),
      new UnsatisfiedLinkError("libfontmanager.so: libfreetype.so.6: cannot open shared object file"),
      new NoClassDefFoundError("Could not initialize class sun.awt.X11FontManager"),
      new NullPointerException("Cannot load from short array because \"sun.awt.FontConfiguration.head\" is null"));
  }

  /** A font that exists but has no glyph for anything (as a Latin-only font for a CJK name). */
  private static final class NoGlyphs implements DefaultAvatarGlyphs {
    @Override
    public Optional<Shape> outline(List<String> graphemes) {
      return Optional.empty();
    }

    @Override
    public double capHeight() {
      return 70;
    }
  }

  private static DefaultAvatars avatars() {
    return new DefaultAvatars(DefaultAvatarSettings.DEFAULT);
  }

  private static DefaultAvatars withGlyphs(DefaultAvatarGlyphs glyphs) {
    return new DefaultAvatars(DefaultAvatarSettings.DEFAULT, PNG_ONLY, glyphs);
  }

  private static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertTrue(image != null, "the bytes decode as an image");
    return image;
  }

  private static byte[] png(BufferedImage image) throws IOException {
    return DefaultAvatarEncoder.PNG.encode(image);
  }

  private static double luminance(Color c) {
    double[] channels = {c.getRed(), c.getGreen(), c.getBlue()};
    double[] weights = {0.2126, 0.7152, 0.0722};
    double l = 0;
    for (int i = 0; i < 3; i++) {
      double s = channels[i] / 255.0;
      l += weights[i] * (s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4));
    }
    return l;
  }

  /** WCAG 2 contrast ratio of a colour against white. */
  private static double contrastWithWhite(Color c) {
    return 1.05 / (luminance(c) + 0.05);
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("d= parsing")
  class Parsing {

    @Test
    @DisplayName("404, identicon, initials and mp are the kinds; no d is 404; ASCII case is ignored")
    void known() {
      assertEquals(Optional.of(DefaultAvatarKind.NONE), DefaultAvatarKind.parse("404"));
      assertEquals(Optional.of(DefaultAvatarKind.NONE), DefaultAvatarKind.parse(null));
      assertEquals(Optional.of(DefaultAvatarKind.IDENTICON), DefaultAvatarKind.parse("identicon"));
      assertEquals(Optional.of(DefaultAvatarKind.INITIALS), DefaultAvatarKind.parse("initials"));
      assertEquals(Optional.of(DefaultAvatarKind.MP), DefaultAvatarKind.parse("mp"));
      assertEquals(Optional.of(DefaultAvatarKind.IDENTICON), DefaultAvatarKind.parse("IdentIcon"));
      assertEquals(Optional.of(DefaultAvatarKind.MP), DefaultAvatarKind.parse("MP"));
      assertFalse(DefaultAvatarKind.NONE.rendered());
      assertTrue(DefaultAvatarKind.MP.rendered());
      assertFalse(DefaultAvatarKind.MP.perUser());
      assertTrue(DefaultAvatarKind.INITIALS.perUser());
    }

    @Test
    @DisplayName("Anything else is unknown (the HTTP layer's 400), including look-alikes outside ASCII")
    void unknown() {
      for (String d : List.of("", " mp", "mp ", "retro", "mm", "40", "4040", "identicon\u0000", "ınitials",
        "\u212Aidenticon", "x".repeat(100_000))) {
        assertEquals(Optional.empty(), DefaultAvatarKind.parse(d), d.length() > 20 ? "long" : d);
      }
    }
  }

  @Nested
  @DisplayName("Sizes")
  class Sizes {

    @Test
    @DisplayName("A request snaps to the smallest configured size that covers it, else the largest")
    void snap() {
      DefaultAvatarSettings s = DefaultAvatarSettings.DEFAULT;
      assertEquals(16, s.snap(-5));
      assertEquals(16, s.snap(0));
      assertEquals(16, s.snap(1));
      assertEquals(16, s.snap(16));
      assertEquals(32, s.snap(17));
      assertEquals(128, s.snap(100));
      assertEquals(1024, s.snap(1024));
      assertEquals(1024, s.snap(1025));
      assertEquals(1024, s.snap(Integer.MAX_VALUE));
      DefaultAvatarSettings custom = new DefaultAvatarSettings(List.of(100, 40, 40, 7), 10, 1000);
      assertEquals(List.of(7, 40, 100), custom.sizes());
      assertEquals(40, custom.snap(8));
    }

    @Test
    @DisplayName("Sizes must be 1 to 2048 and there must be one; cache bounds not negative")
    void invalid() {
      assertThrows(IllegalArgumentException.class, () -> new DefaultAvatarSettings(List.of(), 1, 1));
      assertThrows(IllegalArgumentException.class, () -> new DefaultAvatarSettings(List.of(0), 1, 1));
      assertThrows(IllegalArgumentException.class, () -> new DefaultAvatarSettings(List.of(2049), 1, 1));
      assertThrows(IllegalArgumentException.class, () -> new DefaultAvatarSettings(List.of(16), -1, 1));
      assertThrows(IllegalArgumentException.class, () -> new DefaultAvatarSettings(List.of(16), 1, -1));
    }

    @Test
    @DisplayName("Every kind at every configured size is a PNG of exactly that size, that ImageIO decodes")
    void everySize() throws IOException {
      DefaultAvatars avatars = avatars();
      for (DefaultAvatarKind kind : List.of(DefaultAvatarKind.IDENTICON, DefaultAvatarKind.INITIALS,
        DefaultAvatarKind.MP)) {
        for (int size : DefaultAvatarSettings.DEFAULT_SIZES) {
          DefaultAvatar avatar = avatars.get(kind, 42, "Ada Lovelace", size, PNG);
          assertEquals(size, avatar.size());
          assertEquals("image/png", avatar.mediaType());
          BufferedImage image = decode(avatar.bytes());
          assertEquals(size, image.getWidth(), kind + " " + size);
          assertEquals(size, image.getHeight(), kind + " " + size);
        }
      }
    }

    @Test
    @DisplayName("A request between sizes gets the snapped size, and 404 or an unknown format has no image")
    void snappedGet() throws IOException {
      DefaultAvatars avatars = avatars();
      DefaultAvatar avatar = avatars.get(DefaultAvatarKind.IDENTICON, 1, null, 100, PNG);
      assertEquals(128, avatar.size());
      assertEquals(128, decode(avatar.bytes()).getWidth());
      assertThrows(IllegalArgumentException.class, () -> avatars.get(DefaultAvatarKind.NONE, 1, null, 100, PNG));
      assertFalse(avatars.supports(VariantFormat.WEBP));
      assertThrows(IllegalArgumentException.class,
        () -> avatars.get(DefaultAvatarKind.MP, 1, null, 100, VariantFormat.WEBP));
      assertThrows(IllegalArgumentException.class, () -> avatars.image(DefaultAvatarKind.MP, 1, null, 0));
      assertThrows(IllegalArgumentException.class, () -> avatars.image(DefaultAvatarKind.MP, 1, null, 4096));
    }
  }

  @Nested
  @DisplayName("Identicons")
  class Identicons {

    @Test
    @DisplayName("The same id gives the same bytes, from another instance too")
    void deterministic() throws IOException {
      for (int size : List.of(16, 80, 512)) {
        byte[] a = avatars().get(DefaultAvatarKind.IDENTICON, 1234567, null, size, PNG).bytes();
        byte[] b = avatars().get(DefaultAvatarKind.IDENTICON, 1234567, null, size, PNG).bytes();
        assertArrayEquals(a, b);
      }
    }

    @Test
    @DisplayName("Different ids give different images (50 ids, 50 distinct images)")
    void distinct() throws IOException {
      DefaultAvatars avatars = avatars();
      Set<String> seen = new HashSet<>();
      for (long id = 1; id <= 50; id++) {
        seen.add(HexFormat.of().formatHex(avatars.get(DefaultAvatarKind.IDENTICON, id, null, 64, PNG).bytes()));
      }
      assertEquals(50, seen.size());
    }

    @Test
    @DisplayName("Mirror-symmetric and crisp at every size: each pixel equals its mirror, only two colours")
    void symmetricAndCrisp() throws IOException {
      DefaultAvatars avatars = avatars();
      for (long id : List.of(1L, -7L, Long.MAX_VALUE)) {
        for (int size : DefaultAvatarSettings.DEFAULT_SIZES) {
          BufferedImage image = decode(avatars.get(DefaultAvatarKind.IDENTICON, id, null, size, PNG).bytes());
          int background = DefaultAvatars.IDENTICON_BACKGROUND.getRGB();
          int foreground = DefaultAvatars.identiconColour(DefaultAvatars.idHash(id)).getRGB();
          boolean sawForeground = false;
          int[] row = new int[size];
          for (int y = 0; y < size; y++) {
            image.getRGB(0, y, size, 1, row, 0, size);
            for (int x = 0; x < size; x++) {
              if (row[x] != row[size - 1 - x]) {
                assertEquals(row[x], row[size - 1 - x], "id " + id + " size " + size + " at " + x + "," + y);
              }
              if (row[x] != background && row[x] != foreground) {
                assertEquals(background, row[x], "background and foreground only (no antialiased edge, no"
                  + " scaling blur), id " + id + " size " + size + " at " + x + "," + y);
              }
              sawForeground |= row[x] == foreground;
            }
          }
          assertTrue(sawForeground, "id " + id + " size " + size);
        }
      }
    }

    @Test
    @DisplayName("Cells follow the hash: the left three columns are its 15 bits, the right two mirror them")
    void cellsFromHash() throws IOException {
      long id = 31337;
      int size = 120; // margin 10, cells of 20 pixels
      int[] edges = DefaultAvatars.identiconEdges(size);
      assertArrayEquals(new int[] {10, 30, 50, 70, 90, 110}, edges);
      int cells = DefaultAvatars.identiconCells(DefaultAvatars.idHash(id));
      BufferedImage image = avatars().image(DefaultAvatarKind.IDENTICON, id, null, size);
      int fg = DefaultAvatars.identiconColour(DefaultAvatars.idHash(id)).getRGB();
      for (int column = 0; column < 5; column++) {
        for (int row = 0; row < 5; row++) {
          int bitColumn = column < 3 ? column : 4 - column;
          boolean on = (cells >> (bitColumn * 5 + row) & 1) != 0;
          int centre = image.getRGB(edges[column] + 10, edges[row] + 10) & 0xFFFFFF;
          assertEquals(on, centre == (fg & 0xFFFFFF), "cell " + column + "," + row);
        }
      }
      assertEquals(DefaultAvatars.IDENTICON_BACKGROUND.getRGB(), image.getRGB(0, 0), "the margin is background");
    }

    @Test
    @DisplayName("Cell edges are whole pixels, mirror-symmetric, ascending, for sizes 1 to 2048")
    void edges() {
      for (int size = 1; size <= 2048; size++) {
        int[] e = DefaultAvatars.identiconEdges(size);
        for (int i = 0; i < 5; i++) {
          assertTrue(e[i] <= e[i + 1], "size " + size);
          assertEquals(size - e[i], e[5 - i], "size " + size);
        }
        assertTrue(e[0] >= 0 && e[5] <= size);
      }
    }
  }

  @Nested
  @DisplayName("Initials")
  class Initials {

    private List<String> of(String name) {
      return DefaultAvatarInitials.of(name);
    }

    @Test
    @DisplayName("First letters of the first two words, upper-cased")
    void latin() {
      assertEquals(List.of("A", "L"), of("ada lovelace"));
      assertEquals(List.of("A", "K"), of("Ada King Lovelace"), "the first two words, not first and last");
      assertEquals(List.of("P"), of("Plato"));
      assertEquals(List.of("A", "L"), of("  (ada)   'lovelace' "));
      assertEquals(List.of("J", "S"), of("jean-paul sartre"));
      assertEquals(List.of("3", "C"), of("3m co"));
      assertEquals(List.of("A", "L"), of("Ada\u00A0Lovelace"), "no-break space separates");
      assertEquals(List.of("A", "L"), of("Ada\u3000Lovelace"), "ideographic space separates");
      assertEquals(List.of("A", "L"), of("Ada\tLovelace"));
      assertEquals(List.of("ß"), of("ß"), "a letter that upper-cases to two stays one");
    }

    @Test
    @DisplayName("Blank, null, symbols only, emoji only: the fallback")
    void fallback() {
      for (String name : new String[] {null, "", "  ", "\u3000", "🎉🎉 🚀", "--- ***", "\u0301\u0302", "\uD800"}) {
        assertEquals(DefaultAvatarInitials.FALLBACK, of(name), String.valueOf(name));
      }
      assertEquals(List.of("P", "T"), of("🎉 party time"), "an emoji word is skipped");
      assertEquals(List.of("P"), of("🎉party"), "an emoji before a letter is skipped");
    }

    @Test
    @DisplayName("Combining marks stay with their letter; NFC composes what it can; at most 3 marks")
    void combiningMarks() {
      assertEquals(List.of("\u00C9", "Z"), of("e\u0301mile zola"), "e + acute is É");
      assertEquals(List.of("\u00C9", "Z"), of("\u00E9mile zola"));
      assertEquals(List.of("Q\u0303", "X"), of("q\u0303uinn x"), "no precomposed Q-tilde: base and mark");
      List<String> hostile = of("a" + "\u0301".repeat(100_000) + " b");
      assertEquals(1, hostile.size(), "the second word lies beyond what is read");
      assertEquals("\u00C1\u0301\u0301\u0301", hostile.get(0), "Á and three more marks, no more");
      assertEquals(List.of("Z"), of("\u0301 zola"), "a mark without a letter is not an initial");
    }

    @Test
    @DisplayName("Surrogate pairs are one character, upper-cased as such; a lone surrogate is skipped")
    void surrogates() {
      assertEquals(List.of("\uD801\uDC00", "\uD801\uDC01"), of("\uD801\uDC28x \uD801\uDC29y"), "Deseret");
      assertEquals(List.of("\uD835\uDC9C", "B"), of("\uD835\uDC9Cda bob"), "mathematical script A");
      assertEquals(List.of("Z"), of("\uD800 zed"));
      assertEquals(List.of("Z"), of("\uDC00zed"));
      String cut = "x".repeat(DefaultAvatarInitials.MAX_SCAN - 1) + "\uD83D\uDE00";
      assertEquals(List.of("X"), of(cut), "a pair cut at the scan limit is not split");
    }

    @Test
    @DisplayName("CJK names give one character")
    void cjk() {
      assertEquals(List.of("毛"), of("毛泽东"));
      assertEquals(List.of("毛"), of("毛 泽东"));
      assertEquals(List.of("김"), of("김 민준"));
      assertEquals(List.of("や"), of("やまだ たろう"));
      assertEquals(List.of("A"), of("Ada 李"));
      assertEquals(List.of("\uD840\uDC0B"), of("\uD840\uDC0B x"), "a supplementary ideograph");
    }

    @Test
    @DisplayName("A hostile name costs a bounded scan")
    void long_() {
      assertEquals(List.of("X"), of("x".repeat(1_000_000) + " y"));
    }

    @Test
    @DisplayName("Every palette colour has a contrast of at least 4.5:1 with white text")
    void contrast() {
      for (Color c : DefaultAvatars.PALETTE) {
        assertTrue(contrastWithWhite(c) >= 4.5, String.format("#%06X: %.2f", c.getRGB() & 0xFFFFFF,
          contrastWithWhite(c)));
      }
    }

    @Test
    @DisplayName("The colour comes from the id: the same for the same id, every palette colour is used")
    void colourFromId() throws IOException {
      Set<Color> used = new HashSet<>();
      for (long id = 1; id <= 300; id++) {
        used.add(DefaultAvatars.colour(id));
      }
      assertEquals(Set.copyOf(DefaultAvatars.PALETTE), used);
      DefaultAvatars avatars = avatars();
      BufferedImage image = decode(avatars.get(DefaultAvatarKind.INITIALS, 77, "Ada Lovelace", 64, PNG).bytes());
      assertEquals(DefaultAvatars.colour(77).getRGB(), image.getRGB(0, 0));
      assertEquals(DefaultAvatars.colour(77).getRGB(), image.getRGB(63, 63));
      assertArrayEquals(avatars().get(DefaultAvatarKind.INITIALS, 77, "Ada Lovelace", 64, PNG).bytes(),
        avatars.get(DefaultAvatarKind.INITIALS, 77, "Ada Lovelace", 64, PNG).bytes(), "deterministic");
      long other = 78;
      while (DefaultAvatars.colour(other).equals(DefaultAvatars.colour(77))) {
        other++;
      }
      assertFalse(Arrays.equals(avatars.get(DefaultAvatarKind.INITIALS, 77, "Ada", 64, PNG).bytes(),
        avatars.get(DefaultAvatarKind.INITIALS, other, "Ada", 64, PNG).bytes()), "another colour");
      assertFalse(Arrays.equals(avatars.get(DefaultAvatarKind.INITIALS, 77, "Ada", 64, PNG).bytes(),
        avatars.get(DefaultAvatarKind.INITIALS, 77, "Bob", 64, PNG).bytes()), "other letters");
    }

    @Test
    @DisplayName("White text, antialiased, centred (in the font and in the built-in font)")
    void whiteCentredAntialiased() {
      for (DefaultAvatars avatars : List.of(avatars(), withGlyphs(DefaultAvatarGlyphs.builtIn()))) {
        for (String name : List.of("Ada Lovelace", "Zoe", "Émile Wu", "毛泽东", "🎉", "\u3164 blank")) {
          int size = 256;
          BufferedImage image = avatars.image(DefaultAvatarKind.INITIALS, 5, name, size);
          int background = DefaultAvatars.colour(5).getRGB();
          int minX = size, maxX = -1, minY = size, maxY = -1;
          boolean white = false;
          boolean between = false;
          for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
              int rgb = image.getRGB(x, y);
              if (rgb != background) {
                minX = Math.min(minX, x);
                maxX = Math.max(maxX, x);
                minY = Math.min(minY, y);
                maxY = Math.max(maxY, y);
                white |= rgb == Color.WHITE.getRGB();
                between |= rgb != Color.WHITE.getRGB();
              }
            }
          }
          assertTrue(white, name + ": white text");
          assertTrue(between, name + ": antialiased edges");
          assertTrue(Math.abs((minX + maxX) - (size - 1)) <= 4, name + ": centred across, " + minX + ".." + maxX);
          assertTrue(Math.abs((minY + maxY) - (size - 1)) <= 4, name + ": centred down, " + minY + ".." + maxY);
          assertTrue(maxX - minX < 0.75 * size && maxY - minY < 0.75 * size, name + ": inside the square");
        }
      }
    }
  }

  @Nested
  @DisplayName("Without fonts")
  class NoFont {

    @Test
    @DisplayName("When the font system throws (no fonts installed), initials come from the built-in font")
    void noFonts() throws IOException {
      DefaultAvatars builtIn = withGlyphs(DefaultAvatarGlyphs.builtIn());
      for (Throwable failure : fontFailures()) {
        NoFonts broken = new NoFonts(failure);
        DefaultAvatars avatars = withGlyphs(broken);
        for (String name : List.of("Ada Lovelace", "Émile Zola", "毛泽东", "  ")) {
          for (int size : List.of(16, 64, 1024)) {
            byte[] bytes = avatars.get(DefaultAvatarKind.INITIALS, 9, name, size, PNG).bytes();
            assertEquals(size, decode(bytes).getWidth());
            assertArrayEquals(builtIn.get(DefaultAvatarKind.INITIALS, 9, name, size, PNG).bytes(), bytes,
              name + " " + failure);
          }
        }
        assertEquals(1, broken.calls.get(), "a font system that threw is not asked again: " + failure);
      }
    }

    /**
     * A machine with fontconfig but no font, for real: a JVM whose fontconfig reads an empty
     * configuration (and whose home has no cached font list) fails in the JDK itself with "Fontconfig
     * head is null, check your fonts or fonts configuration", as on a fresh Debian with only a JDK.
     * Through the production constructor, its initials are the built-in font's, byte for byte.
     */
    @Test
    @DisplayName("In a JVM that really has no font, initials still render, in the built-in font")
    void realJvmWithoutFonts(@TempDir Path dir) throws Exception {
      Path config = Files.writeString(dir.resolve("fonts.conf"), "<?xml version=\"1.0\"?>\n<fontconfig></fontconfig>\n");
      Path home = Files.createDirectory(dir.resolve("home"));
      Path png = dir.resolve("initials.png");
      Path report = dir.resolve("report.txt");
      List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-Djava.awt.headless=true", "-Duser.home=" + home, "-cp", System.getProperty("java.class.path"),
        WithoutFonts.class.getName(), png.toString(), report.toString());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("output.txt").toFile());
      builder.environment().put("FONTCONFIG_FILE", config.toString());
      builder.environment().remove("FONTCONFIG_PATH");
      Process process = builder.start();
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
      String output = Files.readString(dir.resolve("output.txt"));
      assertEquals(0, process.exitValue(), output);
      String fonts = Files.readString(report);
      assertTrue(fonts.startsWith("font system threw"), "the child really had no font: " + fonts);
      byte[] expected = withGlyphs(DefaultAvatarGlyphs.builtIn())
        .get(DefaultAvatarKind.INITIALS, 9, "Ada Lovelace", 64, PNG).bytes();
      assertArrayEquals(expected, Files.readAllBytes(png));
      assertTrue(output.contains("drawing them with the built-in stroke font"), "the fallback is logged: " + output);
    }

    @Test
    @DisplayName("The built-in font draws letters (not the fallback) and folds accents; anything else is ?")
    void builtInFont() throws IOException {
      DefaultAvatars builtIn = withGlyphs(DefaultAvatarGlyphs.builtIn());
      byte[] al = builtIn.get(DefaultAvatarKind.INITIALS, 3, "Ada Lovelace", 64, PNG).bytes();
      byte[] question = builtIn.get(DefaultAvatarKind.INITIALS, 3, "", 64, PNG).bytes();
      assertFalse(Arrays.equals(al, question));
      assertArrayEquals(builtIn.get(DefaultAvatarKind.INITIALS, 3, "Emile Zola", 64, PNG).bytes(),
        builtIn.get(DefaultAvatarKind.INITIALS, 3, "Émile Zola", 64, PNG).bytes(), "É as E");
      assertArrayEquals(question, builtIn.get(DefaultAvatarKind.INITIALS, 3, "毛泽东", 64, PNG).bytes());
      DefaultAvatars noGlyphs = withGlyphs(new NoGlyphs());
      assertArrayEquals(al, noGlyphs.get(DefaultAvatarKind.INITIALS, 3, "Ada Lovelace", 64, PNG).bytes(),
        "a font without the letters: the built-in font");
    }

    @Test
    @DisplayName("Every built-in glyph (A-Z, 0-9, ?) is drawn, a cap height tall, and no two look alike")
    void glyphs() throws IOException {
      DefaultAvatarGlyphs font = DefaultAvatarGlyphs.builtIn();
      Set<String> images = new HashSet<>();
      String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?";
      for (int i = 0; i < chars.length(); i++) {
        String c = chars.substring(i, i + 1);
        Rectangle2D b = font.outline(List.of(c)).orElseThrow().getBounds2D();
        assertTrue(b.getHeight() > font.capHeight() && b.getHeight() < font.capHeight() * 1.4, c + " " + b);
        assertTrue(b.getWidth() > 1, c);
        images.add(HexFormat.of().formatHex(png(withGlyphs(font).image(DefaultAvatarKind.INITIALS, 1, c, 32))));
      }
      assertEquals(chars.length(), images.size());
      assertEquals(Optional.empty(), font.outline(List.of("a")));
      assertEquals(Optional.empty(), font.outline(List.of("É")));
    }
  }

  @Nested
  @DisplayName("Silhouette")
  class Silhouette {

    @Test
    @DisplayName("Grey head and shoulders on light grey, the same for every user")
    void mp() throws IOException {
      DefaultAvatars avatars = avatars();
      BufferedImage image = decode(avatars.get(DefaultAvatarKind.MP, 1, "Ada", 100, PNG).bytes());
      int size = image.getWidth();
      assertEquals(DefaultAvatars.MP_BACKGROUND.getRGB(), image.getRGB(0, 0));
      assertEquals(DefaultAvatars.MP_FIGURE.getRGB(), image.getRGB(size / 2, (int) (0.40 * size)), "head");
      assertEquals(DefaultAvatars.MP_FIGURE.getRGB(), image.getRGB(size / 2, size - 1), "shoulders");
      assertEquals(DefaultAvatars.MP_BACKGROUND.getRGB(), image.getRGB(size / 2, (int) (0.62 * size)), "neck gap");
      assertArrayEquals(avatars().get(DefaultAvatarKind.MP, 2, "Bob", 100, PNG).bytes(),
        avatars.get(DefaultAvatarKind.MP, 1, "Ada", 100, PNG).bytes());
    }
  }

  @Nested
  @DisplayName("PNG")
  class Png {

    private void assertSamePixels(BufferedImage expected, BufferedImage actual, String what) {
      assertEquals(expected.getWidth(), actual.getWidth(), what);
      assertEquals(expected.getHeight(), actual.getHeight(), what);
      int width = expected.getWidth();
      int[] want = new int[width];
      int[] got = new int[width];
      for (int y = 0; y < expected.getHeight(); y++) {
        expected.getRGB(0, y, width, 1, want, 0, width);
        actual.getRGB(0, y, width, 1, got, 0, width);
        assertArrayEquals(want, got, what + " row " + y);
      }
    }

    @Test
    @DisplayName("Written with a palette (1 bit for an identicon) and lossless: the decoded pixels are the render's")
    void palettedAndLossless() throws IOException {
      DefaultAvatars avatars = avatars();
      for (DefaultAvatarKind kind : List.of(DefaultAvatarKind.IDENTICON, DefaultAvatarKind.INITIALS,
        DefaultAvatarKind.MP)) {
        for (int size : List.of(16, 48, 160, 1024)) {
          BufferedImage rendered = avatars.image(kind, 4242, "Ada Lovelace", size);
          BufferedImage decoded = decode(avatars.get(kind, 4242, "Ada Lovelace", size, PNG).bytes());
          assertTrue(decoded.getColorModel() instanceof java.awt.image.IndexColorModel, kind + " " + size);
          assertSamePixels(rendered, decoded, kind + " " + size);
        }
      }
      BufferedImage identicon = decode(avatars.get(DefaultAvatarKind.IDENTICON, 4242, null, 1024, PNG).bytes());
      assertEquals(1, identicon.getColorModel().getPixelSize(), "two colours, one bit per pixel");
    }

    @Test
    @DisplayName("More than 256 colours, or transparency: written as it is, still lossless")
    void manyColours() throws IOException {
      BufferedImage gradient = new BufferedImage(300, 3, BufferedImage.TYPE_INT_RGB);
      for (int x = 0; x < 300; x++) {
        for (int y = 0; y < 3; y++) {
          gradient.setRGB(x, y, x * 0x010203 + y);
        }
      }
      BufferedImage decoded = decode(png(gradient));
      assertFalse(decoded.getColorModel() instanceof java.awt.image.IndexColorModel);
      assertSamePixels(gradient, decoded, "gradient");
      BufferedImage translucent = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
      translucent.setRGB(1, 1, 0x80FF0000);
      assertEquals(null, DefaultAvatarEncoder.Palette.of(translucent));
      BufferedImage odd = new BufferedImage(13, 5, BufferedImage.TYPE_3BYTE_BGR);
      for (int x = 0; x < 13; x++) {
        odd.setRGB(x, x % 5, 0x102030 * (x % 3 + 1));
      }
      assertSamePixels(odd, decode(png(odd)), "odd width, 4 colours, another image type");
    }
  }

  @Nested
  @DisplayName("Cache")
  class Cache {

    @Test
    @DisplayName("A second request is the same instance and renders nothing; cached() sees it, never renders")
    void hit() throws IOException {
      DefaultAvatars avatars = avatars();
      assertEquals(Optional.empty(), avatars.cached(DefaultAvatarKind.IDENTICON, 5, null, 64, PNG));
      DefaultAvatar first = avatars.get(DefaultAvatarKind.IDENTICON, 5, null, 64, PNG);
      DefaultAvatar second = avatars.get(DefaultAvatarKind.IDENTICON, 5, null, 64, PNG);
      assertSame(first, second);
      assertSame(first, avatars.get(DefaultAvatarKind.IDENTICON, 5, null, 50, PNG), "50 snaps to 64");
      assertSame(first, avatars.cached(DefaultAvatarKind.IDENTICON, 5, "any name", 64, PNG).orElseThrow());
      assertEquals(1, avatars.renders());
      assertNotSame(first, avatars.get(DefaultAvatarKind.IDENTICON, 5, null, 80, PNG), "another size");
      assertEquals(2, avatars.renders());
      assertEquals(2, avatars.cachedEntries());
    }

    @Test
    @DisplayName("mp is one entry per size, whoever asks")
    void mpPerSize() throws IOException {
      DefaultAvatars avatars = avatars();
      DefaultAvatar a = avatars.get(DefaultAvatarKind.MP, 1, "Ada", 64, PNG);
      for (long id = 2; id < 100; id++) {
        assertSame(a, avatars.get(DefaultAvatarKind.MP, id, "User " + id, 64, PNG));
      }
      assertEquals(1, avatars.renders());
      avatars.get(DefaultAvatarKind.MP, 1, "Ada", 128, PNG);
      assertEquals(2, avatars.renders());
      assertEquals(2, avatars.cachedEntries());
    }

    @Test
    @DisplayName("Initials are keyed by letters and colour: same initials and colour share, a rename does not")
    void initialsKey() throws IOException {
      DefaultAvatars avatars = avatars();
      long other = 2;
      while (!DefaultAvatars.colour(other).equals(DefaultAvatars.colour(1))) {
        other++;
      }
      DefaultAvatar ada = avatars.get(DefaultAvatarKind.INITIALS, 1, "Ada Lovelace", 64, PNG);
      assertSame(ada, avatars.get(DefaultAvatarKind.INITIALS, other, "Alan Lee", 64, PNG));
      assertEquals(1, avatars.renders());
      DefaultAvatar renamed = avatars.get(DefaultAvatarKind.INITIALS, 1, "Ada King", 64, PNG);
      assertNotSame(ada, renamed);
      assertEquals(2, avatars.renders());
    }

    @Test
    @DisplayName("Identicons are keyed by the user id")
    void identiconKey() throws IOException {
      DefaultAvatars avatars = avatars();
      DefaultAvatar one = avatars.get(DefaultAvatarKind.IDENTICON, 1, "Ada", 64, PNG);
      assertSame(one, avatars.get(DefaultAvatarKind.IDENTICON, 1, "Renamed", 64, PNG));
      assertNotSame(one, avatars.get(DefaultAvatarKind.IDENTICON, 2, "Ada", 64, PNG));
      assertEquals(2, avatars.renders());
    }

    @Test
    @DisplayName("The ETag is the quoted hex SHA-256 of the bytes")
    void etag() throws Exception {
      DefaultAvatar avatar = avatars().get(DefaultAvatarKind.INITIALS, 1, "Ada", 32, PNG);
      String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(avatar.bytes()));
      assertEquals("\"" + hex + "\"", avatar.etag());
      assertNotEquals(avatar.etag(), avatars().get(DefaultAvatarKind.INITIALS, 1, "Bob", 32, PNG).etag());
    }

    @Test
    @DisplayName("Bounded by entries: the least recently used goes first")
    void entryBound() throws IOException {
      DefaultAvatars avatars = new DefaultAvatars(new DefaultAvatarSettings(List.of(32), 2, 1 << 20));
      DefaultAvatar a = avatars.get(DefaultAvatarKind.IDENTICON, 1, null, 32, PNG);
      avatars.get(DefaultAvatarKind.IDENTICON, 2, null, 32, PNG);
      assertSame(a, avatars.get(DefaultAvatarKind.IDENTICON, 1, null, 32, PNG), "1 is now the most recent");
      avatars.get(DefaultAvatarKind.IDENTICON, 3, null, 32, PNG);
      assertEquals(2, avatars.cachedEntries());
      assertTrue(avatars.cached(DefaultAvatarKind.IDENTICON, 1, null, 32, PNG).isPresent());
      assertTrue(avatars.cached(DefaultAvatarKind.IDENTICON, 2, null, 32, PNG).isEmpty(), "2 was evicted");
      assertTrue(avatars.cached(DefaultAvatarKind.IDENTICON, 3, null, 32, PNG).isPresent());
      assertEquals(3, avatars.renders());
      avatars.get(DefaultAvatarKind.IDENTICON, 2, null, 32, PNG);
      assertEquals(4, avatars.renders(), "an evicted image is rendered again");
    }

    @Test
    @DisplayName("Bounded by bytes: the cache never holds more, and an image larger than the bound is not kept")
    void byteBound() throws IOException {
      DefaultAvatars reference = avatars();
      long largest = 0;
      for (long id = 1; id <= 10; id++) {
        largest = Math.max(largest, reference.get(DefaultAvatarKind.IDENTICON, id, null, 256, PNG).bytes().length
          + DefaultAvatars.ENTRY_OVERHEAD);
      }
      long bound = 2 * largest + largest / 2;
      DefaultAvatars avatars = new DefaultAvatars(new DefaultAvatarSettings(List.of(256), 100, bound));
      for (long id = 1; id <= 10; id++) {
        avatars.get(DefaultAvatarKind.IDENTICON, id, null, 256, PNG);
        assertTrue(avatars.cachedBytes() <= bound, "bytes " + avatars.cachedBytes() + " > " + bound);
        assertTrue(avatars.cachedEntries() >= Math.min(id, 2), "two always fit");
      }
      assertTrue(avatars.cachedEntries() < 10, "some were evicted");
      assertTrue(avatars.cached(DefaultAvatarKind.IDENTICON, 10, null, 256, PNG).isPresent(), "the newest stays");
      DefaultAvatars tiny = new DefaultAvatars(new DefaultAvatarSettings(List.of(256), 100, 100));
      DefaultAvatar big = tiny.get(DefaultAvatarKind.MP, 0, null, 256, PNG);
      assertTrue(big.bytes().length > 100);
      assertEquals(0, tiny.cachedEntries());
      assertEquals(0, tiny.cachedBytes());
      DefaultAvatars none = new DefaultAvatars(new DefaultAvatarSettings(List.of(16), 0, 1 << 20));
      none.get(DefaultAvatarKind.MP, 0, null, 16, PNG);
      none.get(DefaultAvatarKind.MP, 0, null, 16, PNG);
      assertEquals(2, none.renders(), "a cache of 0 entries keeps nothing");
    }

    @Test
    @DisplayName("Concurrent requests for the same image render it once and get the same instance")
    void concurrentRenderOnce() throws Exception {
      CountDownLatch entered = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      DefaultAvatarEncoder slow = image -> {
        entered.countDown();
        try {
          release.await(); // let go by the test, or by its finally
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        return DefaultAvatarEncoder.PNG.encode(image);
      };
      DefaultAvatars avatars = new DefaultAvatars(DefaultAvatarSettings.DEFAULT, Map.of(PNG, slow));
      int waiters = 6;
      ExecutorService pool = Executors.newFixedThreadPool(waiters + 1);
      try {
        List<Future<DefaultAvatar>> results = new ArrayList<>();
        results.add(pool.submit(() -> avatars.get(DefaultAvatarKind.IDENTICON, 8, null, 64, PNG)));
        assertTrue(entered.await(30, TimeUnit.SECONDS), "the first request is encoding");
        List<Thread> threads = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(waiters);
        for (int i = 0; i < waiters; i++) {
          results.add(pool.submit(() -> {
            synchronized (threads) {
              threads.add(Thread.currentThread());
            }
            started.countDown();
            return avatars.get(DefaultAvatarKind.IDENTICON, 8, null, 64, PNG);
          }));
        }
        assertTrue(started.await(30, TimeUnit.SECONDS));
        // Every waiter parks (on the first request's render; without the in-flight map, in its own encode)
        // before the encoder is let go.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!allWaiting(threads) && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }
        assertTrue(allWaiting(threads), "every waiter is parked");
        release.countDown();
        DefaultAvatar first = results.get(0).get(30, TimeUnit.SECONDS);
        for (Future<DefaultAvatar> result : results) {
          assertSame(first, result.get(30, TimeUnit.SECONDS));
        }
        assertEquals(1, avatars.renders());
      } finally {
        release.countDown();
        pool.shutdownNow();
      }
    }

    private boolean allWaiting(List<Thread> threads) {
      synchronized (threads) {
        return threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING);
      }
    }

    @Test
    @DisplayName("A failing encoder: the error reaches the caller, nothing is cached, the next request retries")
    void encoderFailure() throws IOException {
      AtomicInteger calls = new AtomicInteger();
      DefaultAvatarEncoder flaky = image -> {
        if (calls.incrementAndGet() == 1) {
          throw new IOException("encoder broke");
        }
        return DefaultAvatarEncoder.PNG.encode(image);
      };
      DefaultAvatars avatars = new DefaultAvatars(DefaultAvatarSettings.DEFAULT, Map.of(PNG, flaky));
      IOException e = assertThrows(IOException.class, () -> avatars.get(DefaultAvatarKind.MP, 1, null, 32, PNG));
      assertEquals("encoder broke", e.getMessage());
      assertEquals(0, avatars.cachedEntries());
      assertEquals(32, decode(avatars.get(DefaultAvatarKind.MP, 1, null, 32, PNG).bytes()).getWidth());
      assertEquals(1, avatars.cachedEntries());
    }

    @Test
    @DisplayName("Another encoder (WebP, from the lead) is its own format and its own cache entries")
    void otherFormat() throws IOException {
      DefaultAvatarEncoder fakeWebp = image -> new byte[] {'R', 'I', 'F', 'F', (byte) image.getWidth()};
      DefaultAvatars avatars = new DefaultAvatars(DefaultAvatarSettings.DEFAULT,
        Map.of(PNG, DefaultAvatarEncoder.PNG, VariantFormat.WEBP, fakeWebp));
      assertTrue(avatars.supports(VariantFormat.WEBP));
      DefaultAvatar webp = avatars.get(DefaultAvatarKind.MP, 1, null, 64, VariantFormat.WEBP);
      assertEquals("image/webp", webp.mediaType());
      assertArrayEquals(new byte[] {'R', 'I', 'F', 'F', 64}, webp.bytes());
      DefaultAvatar png = avatars.get(DefaultAvatarKind.MP, 1, null, 64, PNG);
      assertNotSame(webp, png);
      assertEquals(2, avatars.cachedEntries());
      assertEquals(2, avatars.renders());
    }
  }

  /** The child JVM of {@code realJvmWithoutFonts}: renders initials, and says whether AWT has a font. */
  static final class WithoutFonts {
    public static void main(String[] args) throws Exception {
      DefaultAvatars avatars = new DefaultAvatars(DefaultAvatarSettings.DEFAULT);
      Files.write(Path.of(args[0]), avatars.get(DefaultAvatarKind.INITIALS, 9, "Ada Lovelace", 64, PNG).bytes());
      String fonts;
      try {
        fonts = "font system works: " + new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 10)
          .canDisplayUpTo("AL");
      } catch (Throwable t) {
        fonts = "font system threw " + t;
      }
      Files.writeString(Path.of(args[1]), fonts);
    }
  }
}
