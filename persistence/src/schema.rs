//! The schema, written by hand with the column types both backends share (`print-schema` output
//! differs per backend). A test migrates both backends and loads every table through it.

diesel::table! {
    agencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        name_search -> Text,
        level -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        full_name -> Text,
        search -> Text,
        role -> Text,
        capabilities -> Text,
        agency_id -> Nullable<Text>,
        id_number -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        active -> Bool,
        token_version -> BigInt,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    role_ledger (id) {
        id -> Text,
        agency_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        subject_id -> Text,
        action -> Text,
        role -> Text,
        capabilities -> Text,
        reason -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_digest -> Nullable<Text>,
        after_digest -> Nullable<Text>,
        reason -> Nullable<Text>,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_pending (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_digest -> Nullable<Text>,
        after_digest -> Nullable<Text>,
        reason -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    procedures (code) {
        code -> Text,
        national_code -> Nullable<Text>,
        latest_version -> Integer,
        current_version -> Nullable<Integer>,
        abolished -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    procedure_versions (procedure_code, version) {
        procedure_code -> Text,
        version -> Integer,
        status -> Text,
        is_latest -> Bool,
        is_current -> Bool,
        effective_from -> Date,
        name -> Text,
        search -> Text,
        sector -> Text,
        field_code -> Text,
        online_level -> Text,
        levels -> Text,
        agency_ids -> Text,
        content -> Text,
        content_hash -> Text,
        decision_ref -> Nullable<Text>,
        source_system -> Text,
        source_version -> Nullable<Text>,
        synced_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    workflows (id) {
        id -> Text,
        procedure_code -> Text,
        agency_key -> Text,
        agency_id -> Nullable<Text>,
        version -> Integer,
        steps -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    faqs (id) {
        id -> Text,
        procedure_code -> Nullable<Text>,
        question -> Text,
        answer -> Text,
        search -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        status -> Text,
        total -> Integer,
        done -> Integer,
        created -> Integer,
        updated -> Integer,
        unchanged -> Integer,
        failed -> Integer,
        items -> Text,
        error -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    procedure_templates (id) {
        id -> Text,
        procedure_code -> Text,
        document_code -> Nullable<Text>,
        name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_sequences (agency_id, local_date) {
        agency_id -> Text,
        local_date -> Date,
        last_value -> BigInt,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        code -> Text,
        procedure_code -> Text,
        procedure_version -> Integer,
        agency_id -> Text,
        channel -> Text,
        source -> Text,
        external_id -> Nullable<Text>,
        status -> Text,
        owner_id -> Nullable<Text>,
        applicant -> Text,
        representative -> Nullable<Text>,
        summary -> Text,
        form_data -> Text,
        documents -> Text,
        return_method -> Text,
        current_step -> Nullable<Text>,
        assignee_id -> Nullable<Text>,
        submitted_at -> Timestamp,
        received_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        original_due_at -> Nullable<Timestamp>,
        paused_at -> Nullable<Timestamp>,
        supplement_count -> Integer,
        supplement_seconds -> BigInt,
        finished_at -> Nullable<Timestamp>,
        returned_at -> Nullable<Timestamp>,
        revision -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        search -> Text,
        step_due_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_events (case_id, seq) {
        case_id -> Text,
        seq -> Integer,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        step -> Nullable<Text>,
        note -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        step_due_at -> Nullable<Timestamp>,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    case_documents (id) {
        id -> Text,
        case_id -> Text,
        kind -> Text,
        requirement_code -> Nullable<Text>,
        name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_ratings (case_id) {
        case_id -> Text,
        satisfaction -> Text,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_stats_daily (agency_id, procedure_code, channel, day) {
        agency_id -> Text,
        procedure_code -> Text,
        channel -> Text,
        day -> Date,
        received -> BigInt,
        received_online -> BigInt,
        resolved_early -> BigInt,
        resolved_on_time -> BigInt,
        resolved_late -> BigInt,
        withdrawn -> BigInt,
        refused -> BigInt,
        supplement_requested -> BigInt,
        due -> BigInt,
        past_due -> BigInt,
    }
}

diesel::table! {
    case_stats_monthly (agency_id, procedure_code, channel, day) {
        agency_id -> Text,
        procedure_code -> Text,
        channel -> Text,
        day -> Date,
        received -> BigInt,
        received_online -> BigInt,
        resolved_early -> BigInt,
        resolved_on_time -> BigInt,
        resolved_late -> BigInt,
        withdrawn -> BigInt,
        refused -> BigInt,
        supplement_requested -> BigInt,
        due -> BigInt,
        past_due -> BigInt,
    }
}

diesel::table! {
    case_stats_agency_daily (agency_id, day) {
        agency_id -> Text,
        day -> Date,
        received -> BigInt,
        received_online -> BigInt,
        resolved_early -> BigInt,
        resolved_on_time -> BigInt,
        resolved_late -> BigInt,
        withdrawn -> BigInt,
        refused -> BigInt,
        supplement_requested -> BigInt,
        due -> BigInt,
        past_due -> BigInt,
    }
}

diesel::table! {
    case_stats_agency_monthly (agency_id, day) {
        agency_id -> Text,
        day -> Date,
        received -> BigInt,
        received_online -> BigInt,
        resolved_early -> BigInt,
        resolved_on_time -> BigInt,
        resolved_late -> BigInt,
        withdrawn -> BigInt,
        refused -> BigInt,
        supplement_requested -> BigInt,
        due -> BigInt,
        past_due -> BigInt,
    }
}

diesel::table! {
    case_stats_pending (id) {
        id -> BigInt,
        agency_id -> Text,
        procedure_code -> Text,
        channel -> Text,
        day -> Date,
        received -> BigInt,
        received_online -> BigInt,
        resolved_early -> BigInt,
        resolved_on_time -> BigInt,
        resolved_late -> BigInt,
        withdrawn -> BigInt,
        refused -> BigInt,
        supplement_requested -> BigInt,
        due -> BigInt,
        past_due -> BigInt,
    }
}

diesel::table! {
    case_stats_state (id) {
        id -> Integer,
        built -> Bool,
    }
}

diesel::table! {
    report_snapshots (id) {
        id -> Text,
        template -> Text,
        period -> Text,
        from_date -> Date,
        to_date -> Date,
        scope -> Text,
        group_by -> Text,
        trigger_kind -> Text,
        content -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        submission_status -> Text,
        submission_ref -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    feedback (id) {
        id -> Text,
        code -> Text,
        kind -> Text,
        category -> Text,
        title -> Text,
        content -> Text,
        contact -> Text,
        submitter_id -> Nullable<Text>,
        agency_id -> Text,
        related_case_id -> Nullable<Text>,
        related_case_code -> Nullable<Text>,
        status -> Text,
        submitted_at -> Timestamp,
        reception_due_at -> Timestamp,
        supplement_due_at -> Timestamp,
        answer_due_at -> Timestamp,
        publish_due_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
        first_supplement_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        answer -> Nullable<Text>,
        answered_by -> Nullable<Text>,
        useful -> Nullable<Bool>,
        revision -> Integer,
        updated_at -> Timestamp,
        search -> Text,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    feedback_events (feedback_id, seq) {
        feedback_id -> Text,
        seq -> Integer,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    feedback_documents (id) {
        id -> Text,
        feedback_id -> Text,
        name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    feedback_sequences (local_date) {
        local_date -> Date,
        last_value -> BigInt,
    }
}

diesel::table! {
    agency_evaluations (agency_id, quarter) {
        agency_id -> Text,
        quarter -> Text,
        self_scores -> Text,
        appraised_scores -> Text,
        deduction_reasons -> Nullable<Text>,
        updated_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox_messages (seq) {
        seq -> BigInt,
        id -> Text,
        target -> Text,
        kind -> Text,
        ordering_key -> Text,
        subject -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        retry_from -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_response_status -> Nullable<Integer>,
        response_ref -> Nullable<Text>,
        leased_by -> Nullable<Text>,
        leased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox_attempts (message_id, attempt) {
        message_id -> Text,
        attempt -> Integer,
        worker -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        outcome -> Text,
        request_digest -> Nullable<Text>,
        response_status -> Nullable<Integer>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    reconciliation_findings (target, case_code) {
        target -> Text,
        case_code -> Text,
        kind -> Text,
        ours_status -> Integer,
        theirs_status -> Nullable<Integer>,
        ours_due -> Nullable<Text>,
        theirs_due -> Nullable<Text>,
        checked_at -> Timestamp,
    }
}

diesel::table! {
    sso_states (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        return_to -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_limits (bucket, client) {
        bucket -> Text,
        client -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    login_failures (username, client) {
        username -> Text,
        client -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    rate_limits,
    login_failures,
    sso_states,
    reconciliation_findings,
    outbox_messages,
    outbox_attempts,
    agency_evaluations,
    feedback,
    feedback_events,
    feedback_documents,
    feedback_sequences,
    report_snapshots,
    case_stats_daily,
    case_stats_monthly,
    case_stats_agency_daily,
    case_stats_agency_monthly,
    case_stats_pending,
    case_stats_state,
    case_ratings,
    case_documents,
    cases,
    case_events,
    case_sequences,
    procedure_templates,
    jobs,
    agencies,
    users,
    sessions,
    refresh_tokens,
    role_ledger,
    audit_log,
    audit_head,
    audit_pending,
    idempotency_keys,
    calendar_days,
    procedures,
    procedure_versions,
    workflows,
    faqs,
);
