/* The database schema. Tables are created if missing; a new column or table goes in a new
 * migration step below, never by editing an old one. */
#include "store/schema.h"

#include <stdio.h>

static const char *const MIGRATIONS[] = {
    /* 1: conditions, journal, meta */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS conditions("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  uuid TEXT,"
    "  symbol TEXT NOT NULL,"
    "  side TEXT NOT NULL CHECK(side IN ('buy','sell')),"
    "  trigger_price INTEGER NOT NULL,"
    "  turning_point INTEGER NOT NULL,"
    "  quantity INTEGER NOT NULL CHECK(quantity > 0),"
    "  take_profit_point INTEGER NOT NULL,"
    "  stop_loss_point INTEGER NOT NULL,"
    "  is_following INTEGER NOT NULL,"
    "  order_price INTEGER NOT NULL,"
    "  take_profit_price INTEGER NOT NULL,"
    "  stop_loss_price INTEGER NOT NULL,"
    "  is_trigger INTEGER NOT NULL DEFAULT 0,"
    "  is_ordered INTEGER NOT NULL DEFAULT 0,"
    "  is_exited INTEGER NOT NULL DEFAULT 0,"
    "  entry_state TEXT NOT NULL DEFAULT 'none',"
    "  filled_qty INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'active',"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at REAL NOT NULL,"
    "  updated_at REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS conditions_status ON conditions(status);"
    "CREATE TABLE IF NOT EXISTS journal("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ts REAL NOT NULL,"
    "  source TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  ref TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');",
    /* 2: orders, fills, positions (the executor's books) */
    "CREATE TABLE IF NOT EXISTS orders("
    "  client_order_id TEXT PRIMARY KEY,"
    "  signal_id TEXT NOT NULL UNIQUE,"
    "  condition_id INTEGER NOT NULL DEFAULT 0,"
    "  account TEXT NOT NULL DEFAULT '',"
    "  symbol TEXT NOT NULL,"
    "  side TEXT NOT NULL,"
    "  qty INTEGER NOT NULL,"
    "  filled_qty INTEGER NOT NULL DEFAULT 0,"
    "  fill_notional INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  order_serial TEXT NOT NULL DEFAULT '',"
    "  is_exit INTEGER NOT NULL DEFAULT 0,"
    "  ref_price INTEGER NOT NULL DEFAULT 0,"
    "  signal_when REAL NOT NULL DEFAULT 0,"
    "  created_at REAL NOT NULL,"
    "  updated_at REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS orders_status ON orders(status);"
    "CREATE TABLE IF NOT EXISTS fills("
    "  fill_id TEXT PRIMARY KEY,"
    "  client_order_id TEXT NOT NULL,"
    "  qty INTEGER NOT NULL,"
    "  price INTEGER NOT NULL,"
    "  time REAL NOT NULL,"
    "  account TEXT NOT NULL DEFAULT '',"
    "  symbol TEXT NOT NULL DEFAULT '',"
    "  side TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS positions("
    "  account TEXT NOT NULL,"
    "  symbol TEXT NOT NULL,"
    "  net_qty INTEGER NOT NULL DEFAULT 0,"
    "  open_cost INTEGER NOT NULL DEFAULT 0,"
    "  realized INTEGER NOT NULL DEFAULT 0,"
    "  last_price INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(account, symbol));",
    /* 3: session and equity log */
    "CREATE TABLE IF NOT EXISTS session("
    "  id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  account TEXT NOT NULL,"
    "  logged_in INTEGER NOT NULL,"
    "  expires_at REAL NOT NULL,"
    "  order_account TEXT,"
    "  order_account_set TEXT,"
    "  item_code TEXT,"
    "  broker TEXT NOT NULL DEFAULT 'sim');"
    "CREATE TABLE IF NOT EXISTS equity(date TEXT PRIMARY KEY, equity INTEGER NOT NULL);",
    /* 4: the session's registered items, and the processes of the trading system as their
     * supervisor (the menu, 'aftm login' or 'aftm run') last recorded them */
    "CREATE TABLE IF NOT EXISTS session_items("
    "  code TEXT PRIMARY KEY,"
    "  registered_at REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS processes("
    "  name TEXT PRIMARY KEY,"
    "  pid INTEGER NOT NULL DEFAULT 0,"
    "  pid_start INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL,"
    "  started_at REAL NOT NULL DEFAULT 0,"
    "  restarts INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  owner TEXT NOT NULL DEFAULT '',"
    "  supervisor_pid INTEGER NOT NULL DEFAULT 0,"
    "  updated_at REAL NOT NULL);",
    /* 5: named equity logs: a backtest's daily equity, each under its own name with its
     * capital, never in the live log (equity) */
    "CREATE TABLE IF NOT EXISTS equity_logs("
    "  name TEXT PRIMARY KEY,"
    "  capital INTEGER NOT NULL,"
    "  created_at REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS equity_log_rows("
    "  name TEXT NOT NULL,"
    "  date TEXT NOT NULL,"
    "  equity INTEGER NOT NULL,"
    "  PRIMARY KEY(name, date));",
    /* 6: this database's instance id (random, made once with the database: it goes into every
     * client order id, so ids never repeat at the exchange after the database is recreated), and
     * the strategy's outbox of signals not yet acknowledged by the executor */
    "INSERT OR IGNORE INTO meta(key, value) VALUES('instance_id', lower(hex(randomblob(4))));"
    "CREATE TABLE IF NOT EXISTS signal_outbox("
    "  signal_id TEXT PRIMARY KEY,"
    "  body BLOB NOT NULL,"
    "  descr TEXT NOT NULL DEFAULT '',"
    "  created_at REAL NOT NULL);",
    /* 7: orders asked for by hand (aftm order send, the menu), waiting for the executor, which
     * places them through its own path (stored, client order id, risk checks, reports) */
    "CREATE TABLE IF NOT EXISTS manual_requests("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account TEXT NOT NULL,"
    "  symbol TEXT NOT NULL,"
    "  side TEXT NOT NULL CHECK(side IN ('buy','sell')),"
    "  qty INTEGER NOT NULL CHECK(qty > 0),"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','taken','done','withdrawn')),"
    "  client_order_id TEXT NOT NULL DEFAULT '',"
    "  result TEXT NOT NULL DEFAULT '',"
    "  created_at REAL NOT NULL,"
    "  updated_at REAL NOT NULL);",
    /* 8: requests by hand beyond an order: 'flatten' (close every open position of the account,
     * or of target's product, at market) and 'cancel' (target: the client order id to cancel);
     * side and qty are unused placeholders for those */
    "ALTER TABLE manual_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'order'"
    "  CHECK(kind IN ('order','flatten','cancel'));"
    "ALTER TABLE manual_requests ADD COLUMN target TEXT NOT NULL DEFAULT '';",
    /* 9: conditions that repeat: armed again after each exit under the same id; round counts
     * the re-armings (it names each round's signals), base_trigger is the trigger as created
     * (trigger_price trails), where each round starts again */
    "ALTER TABLE conditions ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conditions ADD COLUMN round INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conditions ADD COLUMN base_trigger INTEGER NOT NULL DEFAULT 0;"
    "UPDATE conditions SET base_trigger=trigger_price;",
    /* 10: exits the executor holds until their entry's fill is in the books (store/held_exits.h):
     * the signal as received, so a restarted executor decides on it */
    "CREATE TABLE IF NOT EXISTS held_exits("
    "  signal_id TEXT PRIMARY KEY,"
    "  body BLOB NOT NULL,"
    "  held_at REAL NOT NULL);",
    /* 11: the account's risk limits ('aftm risk set|import'), one row a key as written, used by
     * every way of running the executor */
    "CREATE TABLE IF NOT EXISTS risk_limits("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at REAL NOT NULL);",
    /* 12: limit orders by hand ('aftm order send --limit P'): the limit price (0: market) and
     * whether it rests (ROD) or is immediate-or-cancel, on the request and on the order */
    "ALTER TABLE orders ADD COLUMN limit_price INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE orders ADD COLUMN tif TEXT NOT NULL DEFAULT 'ioc';"
    "ALTER TABLE manual_requests ADD COLUMN limit_price INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE manual_requests ADD COLUMN tif TEXT NOT NULL DEFAULT 'ioc';",
    /* 13: an entry whose exit has ended (filled, rejected, cancelled, expired) is marked on its
     * own row, by triggers, so that "the lots the conditions hold" (ostore_conditions_hold, on
     * every exit) reads the entries still open through a partial index instead of every entry
     * of the day: that scan grew with each order and took milliseconds after a few thousand */
    "ALTER TABLE orders ADD COLUMN exit_done INTEGER NOT NULL DEFAULT 0;"
    "UPDATE orders SET exit_done=1 WHERE is_exit=0 AND EXISTS (SELECT 1 FROM orders x WHERE "
    "  x.signal_id = substr(orders.signal_id, 1, length(orders.signal_id) - 1) || 'X' AND "
    "  x.status NOT IN ('new','sent','accepted','partially_filled'));"
    "CREATE TRIGGER orders_exit_done_insert AFTER INSERT ON orders "
    "  WHEN NEW.signal_id LIKE '%.X' AND NEW.status NOT IN ('new','sent','accepted','partially_filled') BEGIN "
    "  UPDATE orders SET exit_done=1 WHERE signal_id = substr(NEW.signal_id, 1, length(NEW.signal_id) - 1) || 'E'; "
    "END;"
    "CREATE TRIGGER orders_exit_done_update AFTER UPDATE OF status ON orders "
    "  WHEN NEW.signal_id LIKE '%.X' AND NEW.status NOT IN ('new','sent','accepted','partially_filled') BEGIN "
    "  UPDATE orders SET exit_done=1 WHERE signal_id = substr(NEW.signal_id, 1, length(NEW.signal_id) - 1) || 'E'; "
    "END;"
    "CREATE INDEX orders_held_entries ON orders(account, symbol) "
    "  WHERE exit_done=0 AND is_exit=0 AND condition_id>0 AND filled_qty>0;",
    /* 14: every insert or update of a condition takes the next number of one counter (rev), in
     * the order the writes commit (SQLite has one writer at a time), so that the strategy reads
     * only the rows changed since its last look instead of every active condition: that full
     * read took 20 ms at 10,000 conditions, five times a second while anything else wrote */
    "ALTER TABLE conditions ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE condition_revision(id INTEGER PRIMARY KEY CHECK(id = 1), n INTEGER NOT NULL);"
    "INSERT INTO condition_revision VALUES(1, 0);"
    "CREATE TRIGGER conditions_rev_insert AFTER INSERT ON conditions BEGIN "
    "  UPDATE condition_revision SET n = n + 1 WHERE id = 1; "
    "  UPDATE conditions SET rev = (SELECT n FROM condition_revision WHERE id = 1) WHERE id = NEW.id; "
    "END;"
    "CREATE TRIGGER conditions_rev_update AFTER UPDATE ON conditions WHEN NEW.rev = OLD.rev BEGIN "
    "  UPDATE condition_revision SET n = n + 1 WHERE id = 1; "
    "  UPDATE conditions SET rev = (SELECT n FROM condition_revision WHERE id = 1) WHERE id = NEW.id; "
    "END;"
    "CREATE INDEX conditions_rev ON conditions(rev);",
    /* 15: the orders that are not terminal, oldest first, through a partial index that holds
     * only them (a page or two): the index on status held every order of the day, and each
     * change of an order's status moved its entry in that tree */
    "DROP INDEX IF EXISTS orders_status;"
    "CREATE INDEX orders_open ON orders(created_at) WHERE status IN ('new','sent','accepted','partially_filled');",
};

int schema_version_latest(void) { return (int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]); }

const char *schema_migration(int version) {
    if (version < 1 || version > schema_version_latest()) return NULL;
    return MIGRATIONS[version - 1];
}
