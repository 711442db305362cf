package io.avatarserver.auth;

import io.avatarserver.avatar.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.auth.JWTOptions;

import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Bearer JWTs, HS256 with the server's secret. {@code sub} is the user id; the role {@code admin} in
 * {@code roles} may write any avatar and create users. Only signed tokens with an expiry, this
 * issuer and this audience are accepted; {@code alg: none} is refused by the JWT library itself.
 */
public final class Tokens {

  static final String ISSUER = "avatar-server";
  static final String ADMIN_ROLE = "admin";
  private static final Pattern USER_ID = Pattern.compile("[1-9][0-9]{0,18}");

  private final JWTAuth jwt;

  public Tokens(Vertx vertx, byte[] secret) {
    JWTOptions verify = new JWTOptions().setIssuer(ISSUER).setAudience(List.of(ISSUER)).setLeeway(5);
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
      .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(Buffer.buffer(secret)))
      .setJWTOptions(verify));
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

  /**
   * Verifies a token. Fails with {@code AvatarException(INVALID_TOKEN)} for a bad signature, an
   * expired or expiry-less token, {@code alg: none}, a wrong issuer or audience, or a malformed one.
   */
  public Future<Principal> verify(String token) {
    Future<io.vertx.ext.auth.User> authenticated;
    try {
      authenticated = jwt.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      // vertx-auth 5.0.10 throws instead of failing for some hostile claims ("exp": null makes
      // User.expired dereference null): still an invalid token, never a 500.
      authenticated = Future.failedFuture(e);
    }
    return authenticated
      .recover(err -> Future.failedFuture(Failure.INVALID_TOKEN.exception("The token is invalid: " + reason(err))))
      .compose(user -> {
        // The decoded claims, as the provider stores them (JWTAuthProviderImpl.createUser).
        JsonObject claims = user.attributes().getJsonObject("accessToken", new JsonObject());
        if (!(claims.getValue("exp") instanceof Number)) {
          return Future.failedFuture(Failure.INVALID_TOKEN.exception("The token is invalid: it has no expiry"));
        }
        Object subject = claims.getValue("sub");
        String sub = subject instanceof String s ? s : "";
        JsonArray roles = claims.getJsonArray("roles", new JsonArray());
        boolean admin = roles.contains(ADMIN_ROLE);
        long userId = USER_ID.matcher(sub).matches() ? Long.parseLong(sub) : 0;
        if (userId == 0 && !admin) {
          return Future.failedFuture(Failure.INVALID_TOKEN.exception("The token is invalid: its subject is not a user id"));
        }
        return Future.succeededFuture(new Principal(userId, admin));
      });
  }

  private static String reason(Throwable err) {
    String message = err.getMessage();
    return message == null || message.isBlank() ? "malformed" : message;
  }

  /** A new random secret: 256 bits, base64url, as stored in the data directory. */
  public static String newSecret(java.security.SecureRandom random) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
