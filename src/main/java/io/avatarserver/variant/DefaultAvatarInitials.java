package io.avatarserver.variant;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The initials of a name: the first letter (or digit) of each of its first two words, upper-cased,
 * each with the combining marks that follow it. Unicode aware: code points, not chars (surrogate
 * pairs), NFC first (so "e" + U+0301 is "É"), any Unicode space separates words, symbols and
 * punctuation are skipped ("(Ada) Lovelace" is "AL", an emoji is no letter). A name in a CJK script
 * gives one character. A name without a letter or digit (blank, only symbols or emoji, null) gives
 * {@link #FALLBACK}. Pure and cheap: the name is read up to {@link #MAX_SCAN} chars and a letter keeps
 * at most {@link #MAX_MARKS} marks, so a hostile name costs no more than a short one.
 */
final class DefaultAvatarInitials {
  /** The initials of a name without letters. */
  static final List<String> FALLBACK = List.of("?");
  static final int MAX_SCAN = 512;
  static final int MAX_MARKS = 3;

  private DefaultAvatarInitials() {
  }

  /** One grapheme per initial (one or two), or {@link #FALLBACK}. */
  static List<String> of(String name) {
    if (name == null) {
      return FALLBACK;
    }
    String text = name;
    if (text.length() > MAX_SCAN) {
      int end = MAX_SCAN;
      if (Character.isHighSurrogate(text.charAt(end - 1))) {
        end--;
      }
      text = text.substring(0, end);
    }
    text = Normalizer.normalize(text, Normalizer.Form.NFC);
    List<String> initials = new ArrayList<>(2);
    boolean wordHasInitial = false;
    int i = 0;
    while (i < text.length() && initials.size() < 2) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
        wordHasInitial = false;
      } else if (!wordHasInitial && Character.isLetterOrDigit(cp)) {
        StringBuilder grapheme = new StringBuilder().appendCodePoint(Character.toUpperCase(cp));
        int marks = 0;
        while (i < text.length() && isMark(text.codePointAt(i))) {
          int mark = text.codePointAt(i);
          if (marks++ < MAX_MARKS) {
            grapheme.appendCodePoint(mark);
          }
          i += Character.charCount(mark);
        }
        initials.add(grapheme.toString());
        wordHasInitial = true;
      }
    }
    if (initials.isEmpty()) {
      return FALLBACK;
    }
    if (initials.stream().anyMatch(DefaultAvatarInitials::wide)) {
      return List.of(initials.get(0));
    }
    return List.copyOf(initials);
  }

  /** The initials as one string ("AL"). */
  static String text(List<String> initials) {
    return String.join("", initials);
  }

  private static boolean isMark(int cp) {
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
      || type == Character.COMBINING_SPACING_MARK;
  }

  /** A character of a script written in square blocks, where one is a name's initial. */
  private static boolean wide(String grapheme) {
    Character.UnicodeScript script = Character.UnicodeScript.of(grapheme.codePointAt(0));
    return script == Character.UnicodeScript.HAN || script == Character.UnicodeScript.HIRAGANA
      || script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HANGUL;
  }
}
