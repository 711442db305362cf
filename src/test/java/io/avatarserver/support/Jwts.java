package io.avatarserver.support;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Hand-made JWTs (RFC 7519), so tests can forge exactly the tokens a hostile client would send. */
public final class Jwts {

  private Jwts() {
  }

  public static String hs256(JsonObject claims, String secret) {
    return hs256(new JsonObject().put("alg", "HS256").put("typ", "JWT"), claims, secret);
  }

  /** A token with this exact header, signed with HMAC-SHA256 whatever the header's {@code alg} says. */
  public static String hs256(JsonObject header, JsonObject claims, String secret) {
    return signed(part(header) + "." + part(claims), secret);
  }

  /** A token whose header and payload are these raw JSON texts (or anything else), signed correctly. */
  public static String hs256Raw(String header, String payload, String secret) {
    return signed(b64(header.getBytes(StandardCharsets.UTF_8)) + "." + b64(payload.getBytes(StandardCharsets.UTF_8)), secret);
  }

  private static String signed(String signingInput, String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return signingInput + "." + b64(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** An unsigned token: {@code alg: none} and an empty signature. */
  public static String unsigned(JsonObject claims) {
    return part(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + part(claims) + ".";
  }

  /** Claims as the server's own tokens carry them, expiring {@code expiresIn} seconds from now. */
  public static JsonObject claims(String sub, long expiresIn) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", sub).put("iss", "avatar-server").put("aud", "avatar-server")
      .put("iat", now).put("exp", now + expiresIn);
  }

  private static String part(JsonObject json) {
    return b64(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
