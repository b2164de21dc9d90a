/// The whole v1 schema (docs/database.md#tables). A released migration is never edited: changes are new
/// migrations registered after this one in `Migrations.swift`.
enum SchemaV1 {
    static let statements: [String] = [
        """
        CREATE TABLE meta (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          db_version INTEGER NOT NULL DEFAULT 0,
          md_version INTEGER NOT NULL DEFAULT 0,
          md_path TEXT, md_sha256 TEXT, mirror_refreshed_at TEXT,
          updated_at TEXT NOT NULL)
        """,
        """
        CREATE TABLE sessions (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          repo_path TEXT NOT NULL,
          agent_role TEXT NOT NULL CHECK (agent_role IN ('codex','claude_code','sim','other')),
          owner TEXT NOT NULL,
          terminal_fingerprint TEXT,
          intent TEXT NOT NULL CHECK (intent IN ('new_work','resume_work')),
          status TEXT NOT NULL CHECK (status IN ('active','awaiting_resume','closed','superseded')),
          user_request TEXT, worktree_slug TEXT, main_branch TEXT,
          always_branch INTEGER NOT NULL DEFAULT 1,
          main_worktree_id INTEGER REFERENCES worktrees(id) DEFERRABLE INITIALLY DEFERRED,
          session_root_worktree_id INTEGER REFERENCES worktrees(id) DEFERRABLE INITIALLY DEFERRED,
          root_thread_id INTEGER REFERENCES threads(id) DEFERRABLE INITIALLY DEFERRED,
          tmux_session_name TEXT, tmux_socket TEXT,
          runtime_state TEXT NOT NULL DEFAULT 'root_local_ready',
          heartbeat_timeout_seconds INTEGER NOT NULL DEFAULT 60,
          max_concurrent_children INTEGER NOT NULL DEFAULT 6 CHECK (max_concurrent_children BETWEEN 1 AND 32),
          server_pid INTEGER, server_host TEXT,
          resume_count INTEGER NOT NULL DEFAULT 0,
          superseded_by_session_id INTEGER REFERENCES sessions(id) DEFERRABLE INITIALLY DEFERRED,
          started_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, closed_at TEXT)
        """,
        "CREATE INDEX sessions_repo_status_seen ON sessions(repo_path, status, last_seen_at)",
        "CREATE INDEX sessions_fingerprint ON sessions(terminal_fingerprint)",
        """
        CREATE TABLE worktrees (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          kind TEXT NOT NULL CHECK (kind IN ('main','session_root','task_branch')),
          path TEXT NOT NULL, branch TEXT, slug TEXT, base_commit TEXT,
          owner_session_id INTEGER REFERENCES sessions(id) DEFERRABLE INITIALLY DEFERRED,
          parent_worktree_id INTEGER REFERENCES worktrees(id) DEFERRABLE INITIALLY DEFERRED,
          task_id INTEGER REFERENCES tasks(id) DEFERRABLE INITIALLY DEFERRED,
          status TEXT NOT NULL CHECK (status IN ('planned','active','removed')),
          merge_state TEXT NOT NULL,
          merge_commit TEXT,
          created_at TEXT NOT NULL, merged_at TEXT, removed_at TEXT,
          CHECK (branch IS NOT NULL OR kind = 'main'))
        """,
        "CREATE UNIQUE INDEX worktrees_live_path ON worktrees(path) WHERE status <> 'removed'",
        "CREATE UNIQUE INDEX worktrees_live_branch ON worktrees(branch) WHERE status <> 'removed' AND kind <> 'main'",
        "CREATE UNIQUE INDEX worktrees_one_main ON worktrees(kind) WHERE kind = 'main'",
        "CREATE INDEX worktrees_owner_status ON worktrees(owner_session_id, status)",
        "CREATE INDEX worktrees_parent ON worktrees(parent_worktree_id)",
        """
        CREATE TABLE tasks (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          level TEXT NOT NULL CHECK (level IN ('epic','feature','testgroup','case')),
          parent_id INTEGER REFERENCES tasks(id),
          title TEXT NOT NULL, description TEXT,
          status TEXT NOT NULL DEFAULT 'todo',
          priority INTEGER NOT NULL DEFAULT 0,
          assignee_thread_id INTEGER REFERENCES threads(id) DEFERRABLE INITIALLY DEFERRED,
          assignee_session TEXT,
          input_contract TEXT CHECK (input_contract IS NULL OR json_valid(input_contract)),
          fixtures TEXT CHECK (fixtures IS NULL OR json_valid(fixtures)),
          next_action TEXT, summary TEXT, blocked_reason TEXT,
          cancelled INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT,
          CHECK ((level = 'epic') = (parent_id IS NULL)))
        """,
        "CREATE INDEX tasks_parent ON tasks(parent_id)",
        "CREATE INDEX tasks_session_level_status ON tasks(session_id, level, status)",
        "CREATE INDEX tasks_session_priority ON tasks(session_id, priority DESC, id)",
        "CREATE INDEX tasks_assignee_status ON tasks(assignee_thread_id, status)",
        """
        CREATE TABLE steps (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          task_id INTEGER NOT NULL REFERENCES tasks(id),
          order_no INTEGER NOT NULL CHECK (order_no >= 1),
          title TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'todo',
          evidence TEXT CHECK (evidence IS NULL OR json_valid(evidence)),
          checked_by_thread_id INTEGER REFERENCES threads(id),
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL, recorded_at TEXT,
          UNIQUE (task_id, order_no), UNIQUE (task_id, title))
        """,
        """
        CREATE TABLE checkpoints (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          task_id INTEGER NOT NULL REFERENCES tasks(id),
          step_id INTEGER REFERENCES steps(id),
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          thread_id INTEGER REFERENCES threads(id),
          event TEXT NOT NULL CHECK (event IN ('case.begin','step.check','case.complete','task.update','work.report','current_ref.set')),
          step_title TEXT NOT NULL,
          snapshot TEXT NOT NULL CHECK (json_valid(snapshot)),
          created_at TEXT NOT NULL)
        """,
        "CREATE INDEX checkpoints_task ON checkpoints(task_id, id DESC)",
        """
        CREATE TABLE current_refs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          thread_id INTEGER NOT NULL REFERENCES threads(id),
          node_type TEXT NOT NULL CHECK (node_type IN ('epic','feature','testgroup','case','step','graph_node')),
          node_id INTEGER NOT NULL,
          checkpoint_id INTEGER REFERENCES checkpoints(id),
          mode TEXT NOT NULL CHECK (mode IN ('compact','resume','manual')),
          status TEXT NOT NULL CHECK (status IN ('active','completed')),
          next_action TEXT, summary TEXT,
          required_files TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(required_files)),
          version INTEGER NOT NULL DEFAULT 1,
          acked_version INTEGER, acked_at TEXT,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
          UNIQUE (session_id, thread_id))
        """,
        """
        CREATE TABLE locks (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          scope_type TEXT NOT NULL CHECK (scope_type IN ('file','prefix')),
          scope_path TEXT NOT NULL,
          owner_session TEXT NOT NULL,
          session_id INTEGER REFERENCES sessions(id),
          thread_id INTEGER REFERENCES threads(id),
          state TEXT NOT NULL CHECK (state IN ('active','released','expired')),
          ttl_seconds INTEGER NOT NULL CHECK (ttl_seconds BETWEEN 10 AND 86400),
          reason TEXT,
          acquired_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, lease_until TEXT NOT NULL, released_at TEXT)
        """,
        "CREATE INDEX locks_state_path ON locks(state, scope_path)",
        "CREATE INDEX locks_owner_state ON locks(owner_session, state)",
        "CREATE INDEX locks_session_state ON locks(session_id, state)",
        "CREATE UNIQUE INDEX locks_one_active ON locks(owner_session, scope_type, scope_path) WHERE state = 'active'",
        """
        CREATE TABLE threads (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER NOT NULL REFERENCES sessions(id) DEFERRABLE INITIALLY DEFERRED,
          parent_thread_id INTEGER REFERENCES threads(id),
          role TEXT NOT NULL CHECK (role IN ('session-root','worker','merge-reviewer','plan-architect','doc-mirror-manager')),
          status TEXT NOT NULL,
          status_changed_at TEXT NOT NULL,
          status_source TEXT NOT NULL,
          title TEXT, objective TEXT,
          worktree_id INTEGER REFERENCES worktrees(id) DEFERRABLE INITIALLY DEFERRED,
          workdir TEXT, provider_type TEXT, runner_kind TEXT,
          interaction_mode TEXT NOT NULL DEFAULT 'view_only',
          agent_guide_path TEXT,
          agent_override TEXT CHECK (agent_override IS NULL OR json_valid(agent_override)),
          task_spec TEXT CHECK (task_spec IS NULL OR json_valid(task_spec)),
          scope_task_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scope_task_ids)),
          scope_case_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scope_case_ids)),
          scope_node_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scope_node_ids)),
          launch_argv TEXT CHECK (launch_argv IS NULL OR json_valid(launch_argv)),
          prompt TEXT,
          tmux_socket TEXT, tmux_session_name TEXT, tmux_window_name TEXT, tmux_pane_id TEXT,
          log_file_path TEXT, log_offset INTEGER NOT NULL DEFAULT 0,
          restart_count INTEGER NOT NULL DEFAULT 0,
          exit_status INTEGER, failure_reason TEXT, provider_status TEXT, status_observed_at TEXT,
          last_response TEXT, screen_hash TEXT, screen_changed_at TEXT, last_paste_at TEXT,
          launching_since TEXT, stop_requested_at TEXT, last_report_outcome TEXT,
          created_at TEXT NOT NULL, started_at TEXT, completed_at TEXT, updated_at TEXT NOT NULL)
        """,
        "CREATE UNIQUE INDEX threads_one_root ON threads(session_id) WHERE role = 'session-root'",
        """
        CREATE UNIQUE INDEX threads_pane ON threads(ifnull(tmux_socket, ''), tmux_session_name, tmux_pane_id)
          WHERE tmux_pane_id IS NOT NULL
        """,
        "CREATE INDEX threads_session_parent ON threads(session_id, parent_thread_id, id)",
        "CREATE INDEX threads_session_status ON threads(session_id, status)",
        """
        CREATE TABLE inbox_messages (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          sender_thread_id INTEGER NOT NULL REFERENCES threads(id),
          receiver_thread_id INTEGER NOT NULL REFERENCES threads(id),
          kind TEXT NOT NULL CHECK (kind IN ('note','question','answer','report')),
          message TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered')),
          delivered_via TEXT,
          created_at TEXT NOT NULL, delivered_at TEXT,
          CHECK (sender_thread_id <> receiver_thread_id))
        """,
        "CREATE INDEX inbox_receiver ON inbox_messages(receiver_thread_id, status, id)",
        "CREATE INDEX inbox_sender ON inbox_messages(sender_thread_id, id)",
        "CREATE INDEX inbox_session ON inbox_messages(session_id, id)",
        """
        CREATE TABLE thread_directives (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          thread_id INTEGER NOT NULL REFERENCES threads(id),
          kind TEXT NOT NULL CHECK (kind IN ('prompt','directive','inbox')),
          inbox_message_id INTEGER REFERENCES inbox_messages(id),
          mode TEXT NOT NULL CHECK (mode IN ('interrupt_patch','queue','restart','answer')),
          text TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('queued','delivering','delivered','cancelled','failed')),
          delivery_error TEXT,
          created_at TEXT NOT NULL, claimed_at TEXT, delivered_at TEXT)
        """,
        "CREATE INDEX directives_thread_state ON thread_directives(thread_id, state, id)",
        """
        CREATE TABLE merge_requests (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          feature_task_id INTEGER REFERENCES tasks(id),
          worktree_id INTEGER NOT NULL REFERENCES worktrees(id),
          status TEXT NOT NULL,
          reviewer_session TEXT,
          notes_json TEXT CHECK (notes_json IS NULL OR json_valid(notes_json)),
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
        """,
        "CREATE INDEX merge_requests_session_status ON merge_requests(session_id, status)",
        """
        CREATE TABLE merge_main_queue (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          from_worktree_id INTEGER NOT NULL REFERENCES worktrees(id),
          source_branch TEXT NOT NULL, target_branch TEXT NOT NULL,
          merge_request_id INTEGER NOT NULL REFERENCES merge_requests(id),
          auto_review INTEGER NOT NULL,
          reviewer_role TEXT, agent_guide_path TEXT, provider TEXT,
          agent_override TEXT CHECK (agent_override IS NULL OR json_valid(agent_override)),
          state TEXT NOT NULL,
          review_job_id INTEGER REFERENCES review_jobs(id) DEFERRABLE INITIALLY DEFERRED,
          reviewed_commit TEXT, merge_commit TEXT, fast_forward INTEGER,
          conflicting_files TEXT CHECK (conflicting_files IS NULL OR json_valid(conflicting_files)),
          error_message TEXT,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT)
        """,
        "CREATE UNIQUE INDEX queue_one_open ON merge_main_queue(from_worktree_id) WHERE state IN ('queued','reviewing','approved')",
        "CREATE INDEX queue_state ON merge_main_queue(state, id)",
        """
        CREATE TABLE review_jobs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          merge_request_id INTEGER NOT NULL REFERENCES merge_requests(id),
          session_id INTEGER NOT NULL REFERENCES sessions(id),
          queue_item_id INTEGER REFERENCES merge_main_queue(id),
          reviewer_thread_id INTEGER REFERENCES threads(id),
          state TEXT NOT NULL,
          verdict TEXT CHECK (verdict IS NULL OR verdict IN ('APPROVE','BLOCK')),
          findings TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(findings)),
          summary TEXT,
          reviewed_commit TEXT NOT NULL,
          submitted_by_thread_id INTEGER REFERENCES threads(id),
          notes_json TEXT CHECK (notes_json IS NULL OR json_valid(notes_json)),
          failure_reason TEXT,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL, completed_at TEXT,
          CHECK ((state = 'completed') = (verdict IS NOT NULL)))
        """,
        "CREATE UNIQUE INDEX review_jobs_one_open ON review_jobs(merge_request_id) WHERE state IN ('requested','running')",
        """
        CREATE TABLE merge_main_lock (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          state TEXT NOT NULL CHECK (state IN ('unlocked','locked')),
          holder_session_id INTEGER REFERENCES sessions(id),
          queue_item_id INTEGER REFERENCES merge_main_queue(id),
          lease_until TEXT, acquired_at TEXT,
          updated_at TEXT NOT NULL,
          CHECK ((state = 'locked') = (holder_session_id IS NOT NULL)))
        """,
        """
        CREATE TABLE graph_nodes (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          node_type TEXT NOT NULL,
          facet TEXT NOT NULL DEFAULT 'planning',
          title TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'todo'
            CHECK (status IN ('todo','in_progress','in_review','blocked','done','cancelled')),
          priority INTEGER NOT NULL DEFAULT 0,
          parent_id INTEGER REFERENCES graph_nodes(id),
          task_id INTEGER REFERENCES tasks(id),
          worktree_id INTEGER REFERENCES worktrees(id),
          owner_session_id INTEGER REFERENCES sessions(id),
          summary TEXT,
          risk_level INTEGER CHECK (risk_level BETWEEN 0 AND 5),
          token_estimate INTEGER CHECK (token_estimate >= 0),
          affected_files TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(affected_files)),
          approval_state TEXT NOT NULL DEFAULT 'none',
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
        """,
        "CREATE INDEX graph_nodes_parent ON graph_nodes(parent_id)",
        "CREATE INDEX graph_nodes_type_status ON graph_nodes(node_type, status)",
        "CREATE INDEX graph_nodes_owner ON graph_nodes(owner_session_id)",
        """
        CREATE TABLE graph_edges (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          from_node_id INTEGER NOT NULL REFERENCES graph_nodes(id),
          to_node_id INTEGER NOT NULL REFERENCES graph_nodes(id),
          edge_type TEXT NOT NULL CHECK (edge_type IN ('contains','depends_on','blocks','relates_to')),
          created_at TEXT NOT NULL,
          UNIQUE (from_node_id, to_node_id, edge_type),
          CHECK (from_node_id <> to_node_id))
        """,
        "CREATE INDEX graph_edges_to ON graph_edges(to_node_id)",
        """
        CREATE TABLE node_checklists (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          node_id INTEGER NOT NULL REFERENCES graph_nodes(id),
          facet TEXT NOT NULL,
          order_no INTEGER NOT NULL CHECK (order_no >= 1),
          item_text TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('todo','done','skipped')),
          created_at TEXT, updated_at TEXT NOT NULL,
          UNIQUE (node_id, facet, order_no))
        """,
        """
        CREATE TABLE node_snapshots (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          node_id INTEGER NOT NULL REFERENCES graph_nodes(id),
          snapshot_type TEXT NOT NULL,
          summary TEXT,
          affected_files TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(affected_files)),
          next_action TEXT, trigger TEXT,
          created_at TEXT NOT NULL)
        """,
        "CREATE INDEX node_snapshots_node ON node_snapshots(node_id, id DESC)",
        """
        CREATE TABLE planning_rules (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          max_token_per_slice INTEGER NOT NULL,
          max_files_per_slice INTEGER NOT NULL,
          replan_triggers TEXT NOT NULL CHECK (json_valid(replan_triggers)),
          approval_policy TEXT NOT NULL,
          updated_at TEXT NOT NULL)
        """,
        """
        CREATE TABLE runtime_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          session_id INTEGER REFERENCES sessions(id),
          requirement TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('ready','installed','manual_required')),
          detail TEXT,
          created_at TEXT NOT NULL)
        """,
        """
        CREATE TABLE thread_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          thread_id INTEGER NOT NULL REFERENCES threads(id),
          source TEXT NOT NULL CHECK (source IN ('codex-notify','claude-hook','sim','mcp')),
          event TEXT NOT NULL CHECK (event IN ('turn_complete','prompt_submit','stop','notification','activity','report')),
          provider_status TEXT,
          message TEXT,
          created_at TEXT NOT NULL)
        """,
        "CREATE INDEX thread_events_thread ON thread_events(thread_id, id DESC)",
    ]

    /// Seeds of the singleton tables; `?` is the migration time.
    static let seeds: [String] = [
        "INSERT INTO meta (id, db_version, md_version, updated_at) VALUES (1, 0, 0, ?)",
        "INSERT INTO merge_main_lock (id, state, updated_at) VALUES (1, 'unlocked', ?)",
        """
        INSERT INTO planning_rules (id, max_token_per_slice, max_files_per_slice, replan_triggers, approval_policy, updated_at)
        VALUES (1, 18000, 12, '["context_overflow","scope_change","blocked"]', 'root', ?)
        """,
    ]
}
