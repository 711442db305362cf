/**
 * The domain core: users and their avatars, the use cases on them (AvatarService), the closed set of
 * failures, and the ports (AvatarRepository, AvatarStorage) the adapters implement; it knows no HTTP.
 */
package io.avatarserver.avatar;
