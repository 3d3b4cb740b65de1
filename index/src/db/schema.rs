//! Diesel's view of `migrations/index/*`. Keep in step with the migrations.

diesel::table! {
    users (id) {
        id -> BigInt,
        name -> Text,
        password_hash -> Text,
        email -> Nullable<Text>,
        is_admin -> Bool,
        disabled -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    namespaces (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    namespace_owners (namespace_id, user_id) {
        namespace_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    teams (id) {
        id -> BigInt,
        namespace_id -> BigInt,
        name -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    repositories (id) {
        id -> BigInt,
        namespace_id -> BigInt,
        name -> Text,
        visibility -> Text,
        created_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> BigInt,
        client_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        time -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::joinable!(namespace_owners -> namespaces (namespace_id));
diesel::joinable!(namespace_owners -> users (user_id));
diesel::joinable!(teams -> namespaces (namespace_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(repositories -> namespaces (namespace_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    namespaces,
    namespace_owners,
    teams,
    team_members,
    repositories,
    refresh_tokens,
    audit_events,
);

diesel::table! {
    repository_deletions (id) {
        id -> Text,
        name -> Text,
        requested_at -> BigInt,
        attempts -> BigInt,
        next_attempt_at -> BigInt,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    v1_tokens (id) {
        id -> Text,
        secret_hash -> Text,
        user_id -> Nullable<BigInt>,
        repository -> Text,
        access -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    v1_images (repository_id, image_id) {
        repository_id -> BigInt,
        image_id -> Text,
        position -> BigInt,
        tag -> Nullable<Text>,
        checksum -> Nullable<Text>,
    }
}

diesel::table! {
    access_tokens (id) {
        id -> Text,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        repositories -> Text,
        actions -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        csrf -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        generation -> BigInt,
        algorithm -> Text,
        encrypted_private_key -> Binary,
        nonce -> Binary,
        kek_id -> Text,
        certificate_pem -> Text,
        created_at -> BigInt,
        signs_from -> BigInt,
        retire_after -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_failures (address, account) {
        account -> Text,
        address -> Text,
        window_start -> BigInt,
        failures -> BigInt,
        last_failure -> BigInt,
    }
}

diesel::table! {
    mirrors (prefix) {
        prefix -> Text,
        url -> Text,
        public -> Bool,
        is_default -> Bool,
        namespace_id -> BigInt,
        updated_at -> BigInt,
    }
}
