//! Diesel's view of `migrations/registry/*`. Keep in step with the migrations.

diesel::table! {
    repositories (id) {
        id -> BigInt,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    blobs (digest) {
        digest -> Text,
        size -> BigInt,
        created_at -> BigInt,
        unreferenced_since -> Nullable<BigInt>,
    }
}

diesel::table! {
    gc_deletions (digest) {
        digest -> Text,
        marked_at -> BigInt,
    }
}

diesel::table! {
    repository_blobs (repository_id, digest) {
        repository_id -> BigInt,
        digest -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    manifests (id) {
        id -> BigInt,
        repository_id -> BigInt,
        digest -> Text,
        media_type -> Text,
        artifact_type -> Nullable<Text>,
        size -> BigInt,
        content -> Binary,
        subject -> Nullable<Text>,
        annotations -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    manifest_references (manifest_id, kind, digest) {
        manifest_id -> BigInt,
        digest -> Text,
        kind -> Text,
    }
}

diesel::table! {
    tags (repository_id, name) {
        repository_id -> BigInt,
        name -> Text,
        manifest_digest -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        repository_id -> BigInt,
        size -> BigInt,
        algorithm -> Text,
        hash_state -> Nullable<Binary>,
        busy_until -> Nullable<BigInt>,
        lease_owner -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        digest -> Nullable<Text>,
        multipart_id -> Nullable<Text>,
        multipart_key -> Nullable<Text>,
        tail_id -> Nullable<Text>,
        tail_size -> BigInt,
    }
}

diesel::table! {
    upload_parts (upload_id, number) {
        upload_id -> Text,
        number -> Integer,
        etag -> Text,
        size -> BigInt,
    }
}

diesel::table! {
    mirror_repositories (repository_id) {
        repository_id -> BigInt,
        prefix -> Text,
        hits -> BigInt,
        misses -> BigInt,
        last_pulled -> BigInt,
        registered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    mirror_tags (repository_id, name) {
        repository_id -> BigInt,
        name -> Text,
        checked_at -> BigInt,
    }
}

diesel::table! {
    mirror_manifests (manifest_id) {
        manifest_id -> BigInt,
        last_pulled -> BigInt,
    }
}

diesel::table! {
    notification_outbox (id) {
        id -> BigInt,
        endpoint -> Text,
        event_id -> Text,
        payload -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    notification_endpoints (name) {
        name -> Text,
        failures -> BigInt,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<BigInt>,
        last_success_at -> Nullable<BigInt>,
        delivered -> BigInt,
    }
}

diesel::joinable!(repository_blobs -> repositories (repository_id));
diesel::joinable!(mirror_repositories -> repositories (repository_id));
diesel::joinable!(mirror_manifests -> manifests (manifest_id));
diesel::joinable!(repository_blobs -> blobs (digest));
diesel::joinable!(manifests -> repositories (repository_id));
diesel::joinable!(manifest_references -> manifests (manifest_id));
diesel::joinable!(tags -> repositories (repository_id));
diesel::joinable!(uploads -> repositories (repository_id));
diesel::joinable!(upload_parts -> uploads (upload_id));

diesel::allow_tables_to_appear_in_same_query!(
    repositories,
    blobs,
    gc_deletions,
    repository_blobs,
    manifests,
    manifest_references,
    tags,
    uploads,
    upload_parts,
    mirror_repositories,
    mirror_tags,
    mirror_manifests,
);

diesel::table! {
    v1_images (id) {
        id -> Text,
        json -> Binary,
        parent -> Nullable<Text>,
        layer_digest -> Nullable<Text>,
        size -> Nullable<BigInt>,
        checksum -> Nullable<Text>,
        complete -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    v1_repository_images (repository_id, image_id) {
        repository_id -> BigInt,
        image_id -> Text,
    }
}

diesel::table! {
    v1_tags (repository_id, name) {
        repository_id -> BigInt,
        name -> Text,
        image_id -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    v1_sessions (id_hash) {
        id_hash -> Text,
        repository -> Text,
        access -> Text,
        images -> Text,
        expires_at -> BigInt,
    }
}
