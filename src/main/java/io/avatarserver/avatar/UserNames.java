package io.avatarserver.avatar;

/** What a user's name may be: the rules in one place, in the domain's words. */
final class UserNames {

  static final int MAX_NAME_LENGTH = 200;

  private UserNames() {
  }

  /**
   * The rules for a user's name, all in one place; returns the name to store (stripped of outer
   * white space). A name is a string of 1 to {@value #MAX_NAME_LENGTH} UTF-16 units that is not
   * blank, is well-formed UTF-16 (no lone surrogate, as a JSON escape of U+D800 alone makes),
   * and holds no character that is invisible or rearranges text: no control character (C0, DEL,
   * C1), no line or paragraph separator, no format character (bidirectional overrides, isolates and
   * marks, zero-width space, word joiner, byte-order mark, soft hyphen, tag characters…) except the
   * zero-width joiner and non-joiner that emoji sequences and several scripts need, and no Unicode
   * noncharacter. Names are shown to other people: these are how one name passes for another.
   */
  static String valid(Object raw) {
    if (!(raw instanceof String given) || given.isBlank()) {
      throw Failure.INVALID_USER.exception("'name' must be a non-blank string of at most " + MAX_NAME_LENGTH + " characters");
    }
    String name = given.strip();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw Failure.INVALID_USER.exception("'name' is not well-formed Unicode: it holds a lone surrogate (\\u"
          + String.format("%04x", (int) c) + ")");
      }
    }
    // Counted in UTF-16 units, as H2's VARCHAR(200) counts (PostgreSQL counts code points, fewer):
    // a name that passes here fits both, and a character beyond the BMP (most emoji) counts twice.
    if (name.length() > MAX_NAME_LENGTH) {
      throw Failure.INVALID_USER.exception("'name' is longer than " + MAX_NAME_LENGTH
        + " characters (those beyond the Basic Multilingual Plane, like most emoji, count as two)");
    }
    name.codePoints().forEach(cp -> {
      if (!allowedInName(cp)) {
        throw Failure.INVALID_USER.exception("'name' may not hold U+" + String.format("%04X", cp)
          + ", a control, format or invisible character");
      }
    });
    return name;
  }

  private static boolean allowedInName(int cp) {
    if (cp == 0x200C || cp == 0x200D) {
      return true; // zero-width non-joiner and joiner: emoji sequences, Persian, Indic scripts
    }
    boolean nonCharacter = (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    int type = Character.getType(cp);
    return !nonCharacter && type != Character.CONTROL && type != Character.FORMAT
      && type != Character.LINE_SEPARATOR && type != Character.PARAGRAPH_SEPARATOR;
  }
}
