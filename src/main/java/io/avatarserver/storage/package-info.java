/**
 * The AvatarStorage adapter on a local directory: uploads staged under tmp/, published by an atomic,
 * fsynced rename under avatars/, opened for zero-copy sending.
 */
package io.avatarserver.storage;
