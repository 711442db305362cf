/** Who a request speaks for: the signing secret, HS256 bearer tokens and the principal a valid token names. */
package io.avatarserver.auth;
