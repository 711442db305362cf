package io.avatarserver.auth;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.auth.JWTOptions;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Bearer JWTs, HS256 with the server's secret. {@code sub} is the user id; the role {@code admin} in
 * {@code roles} may write any avatar and create users.
 *
 * <p>Tokens are minted with vertx-auth-jwt but verified here, strictly and completely, so that no
 * token, however hostile its JSON, can make verification throw something other than an
 * {@code INVALID_TOKEN} failure worded by this server: the library casts claims to the types it
 * expects (a string {@code exp}, a number {@code roles}, … fail with a {@code ClassCastException}),
 * ignores {@code crit}, and calls a future {@code nbf} expired. Accepted is exactly: three base64url
 * parts; a header with {@code alg: HS256}, no {@code crit} (RFC 7515 §4.1.11: we understand no
 * extension) and, if present, {@code typ: JWT}; a valid HMAC; claims with a numeric {@code exp},
 * numeric {@code nbf}/{@code iat} if present, this issuer and audience, a string {@code sub} and a
 * list of strings {@code roles} if present. Times allow {@value #LEEWAY_SECONDS} s of clock skew.
 */
public final class Tokens {

  static final String ISSUER = "avatar-server";
  static final String ADMIN_ROLE = "admin";
  static final long LEEWAY_SECONDS = 5;
  /** Longer than any token this server mints by far; the head limit bounds it anyway. */
  static final int MAX_TOKEN_CHARS = 4096;
  private static final Pattern USER_ID = Pattern.compile("[1-9][0-9]{0,18}");
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+");
  private static final String HMAC = "HmacSHA256";

  private final JWTAuth jwt;
  private final ThreadLocal<Mac> macs;

  public Tokens(Vertx vertx, byte[] secret) {
    JWTOptions verify = new JWTOptions().setIssuer(ISSUER).setAudience(List.of(ISSUER)).setLeeway((int) LEEWAY_SECONDS);
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
      .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(Buffer.buffer(secret)))
      .setJWTOptions(verify));
    SecretKeySpec key = new SecretKeySpec(secret.clone(), HMAC);
    this.macs = ThreadLocal.withInitial(() -> {
      try {
        Mac mac = Mac.getInstance(HMAC);
        mac.init(key);
        return mac;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HMAC-SHA256 is not available", e);
      }
    });
  }

  /** A token for {@code userId} (0: none), optionally an admin's, valid for {@code ttlSeconds}. */
  public String mint(long userId, boolean admin, int ttlSeconds) {
    JsonObject claims = new JsonObject().put("sub", userId > 0 ? Long.toString(userId) : "admin");
    if (admin) {
      claims.put("roles", new JsonArray().add(ADMIN_ROLE));
    }
    return jwt.generateToken(claims, new JWTOptions()
      .setAlgorithm("HS256")
      .setIssuer(ISSUER)
      .setAudience(List.of(ISSUER))
      .setExpiresInSeconds(ttlSeconds));
  }

  /** {@link #principalOf} as a future, failed with the same {@code AvatarException(INVALID_TOKEN)}. */
  public Future<Principal> verify(String token) {
    try {
      return Future.succeededFuture(principalOf(token));
    } catch (AvatarException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * Verifies a token and returns whom it speaks for. Cheap (one HMAC over a few hundred bytes): fine
   * on an event loop.
   *
   * @throws AvatarException {@code INVALID_TOKEN}, with a detail in the server's words, for anything
   *                         but a valid, current token of this server naming a user or an admin
   */
  public Principal principalOf(String token) {
    if (token == null || token.length() > MAX_TOKEN_CHARS) {
      throw invalid("it is missing or longer than " + MAX_TOKEN_CHARS + " characters");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3 || !BASE64URL.matcher(parts[0]).matches() || !BASE64URL.matcher(parts[1]).matches()
      || !BASE64URL.matcher(parts[2]).matches()) {
      throw invalid("it is not a signed JWT (three base64url parts separated by dots)");
    }
    JsonObject header = jsonPart(parts[0], "header");
    Object alg = header.getValue("alg");
    if (alg instanceof String name && name.equalsIgnoreCase("none")) {
      throw invalid("unsigned tokens (alg none) are refused");
    }
    if (!"HS256".equals(alg)) {
      throw invalid("it is not signed with HS256");
    }
    if (header.containsKey("crit")) {
      throw invalid("its header names critical extensions (crit) this server does not support");
    }
    Object typ = header.getValue("typ");
    if (header.containsKey("typ") && !(typ instanceof String t && t.equalsIgnoreCase("JWT"))) {
      throw invalid("its header type (typ) is not JWT");
    }
    byte[] signature = base64url(parts[2], "signature");
    byte[] expected = macs.get().doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!MessageDigest.isEqual(expected, signature)) {
      throw invalid("its signature does not match");
    }
    return principalOfClaims(jsonPart(parts[1], "payload"));
  }

  /** The claims of a token whose signature was verified. */
  private static Principal principalOfClaims(JsonObject claims) {
    if (claims.getValue("exp") == null) {
      throw invalid("it has no expiry (exp)");
    }
    double exp = numericDate(claims, "exp");
    double now = System.currentTimeMillis() / 1000.0;
    if (claims.containsKey("nbf") && numericDate(claims, "nbf") > now + LEEWAY_SECONDS) {
      throw invalid("it is not yet valid (nbf is in the future)");
    }
    if (claims.containsKey("iat") && numericDate(claims, "iat") > now + LEEWAY_SECONDS) {
      throw invalid("it was issued in the future (iat)");
    }
    if (exp <= now - LEEWAY_SECONDS) {
      throw invalid("it has expired");
    }
    if (!ISSUER.equals(claims.getValue("iss"))) {
      throw invalid("it was not issued by this server (iss)");
    }
    if (!audienceIsUs(claims.getValue("aud"))) {
      throw invalid("it is not meant for this server (aud)");
    }
    Object subject = claims.getValue("sub");
    if (claims.containsKey("sub") && !(subject instanceof String)) {
      throw invalid("its subject (sub) is not a string");
    }
    boolean admin = false;
    if (claims.containsKey("roles")) {
      if (!(claims.getValue("roles") instanceof JsonArray roles) || !allStrings(roles)) {
        throw invalid("its roles are not a list of strings");
      }
      admin = roles.contains(ADMIN_ROLE);
    }
    String sub = subject instanceof String s ? s : "";
    long userId = USER_ID.matcher(sub).matches() ? Long.parseLong(sub) : 0;
    if (userId == 0 && !admin) {
      throw invalid("its subject (sub) is not a user id");
    }
    return new Principal(userId, admin);
  }

  /** RFC 7519 §2: a NumericDate is a JSON number of seconds, possibly with a fraction. */
  private static double numericDate(JsonObject claims, String name) {
    if (!(claims.getValue(name) instanceof Number number) || !Double.isFinite(number.doubleValue())) {
      throw invalid("its " + name + " is not a number of seconds");
    }
    return number.doubleValue();
  }

  private static boolean audienceIsUs(Object aud) {
    if (aud instanceof String one) {
      return ISSUER.equals(one);
    }
    return aud instanceof JsonArray many && allStrings(many) && many.contains(ISSUER);
  }

  private static boolean allStrings(JsonArray array) {
    for (Object value : array) {
      if (!(value instanceof String)) {
        return false;
      }
    }
    return true;
  }

  private static JsonObject jsonPart(String part, String name) {
    byte[] bytes = base64url(part, name);
    try {
      return new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    } catch (RuntimeException notAnObject) {
      // The parser's own message (positions, Jackson features) is no business of the client's.
      throw invalid("its " + name + " is not a JSON object");
    }
  }

  private static byte[] base64url(String part, String name) {
    try {
      return Base64.getUrlDecoder().decode(part);
    } catch (IllegalArgumentException e) {
      throw invalid("its " + name + " is not valid base64url");
    }
  }

  private static AvatarException invalid(String why) {
    return Failure.INVALID_TOKEN.exception("The token is invalid: " + why);
  }

  /** A new random secret: 256 bits, base64url, as stored in the data directory. */
  public static String newSecret(java.security.SecureRandom random) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
