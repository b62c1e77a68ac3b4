#ifndef AVAULT_CPOSTGRES_SHIM_H
#define AVAULT_CPOSTGRES_SHIM_H
// The few libpq functions a PostgreSQL vault uses, declared as function-pointer types only.
// Nothing here is linked: ArticleVault's PostgresClient dlopen()s libpq.so.5 when a
// PostgreSQL vault is opened and looks each function up with dlsym, so that every other
// command starts without libpq and the 20 libraries it brings (docs/architecture.md).
// The types are those of libpq-fe.h (PostgreSQL 10 and later; the ABI of libpq.so.5).

typedef struct pg_conn avault_pg_conn;
typedef struct pg_result avault_pg_result;
typedef unsigned int avault_pg_oid;

typedef avault_pg_conn *(*avault_PQconnectdb_fn)(const char *conninfo);
typedef int (*avault_PQstatus_fn)(const avault_pg_conn *conn);
typedef char *(*avault_PQerrorMessage_fn)(const avault_pg_conn *conn);
typedef void (*avault_PQfinish_fn)(avault_pg_conn *conn);
typedef void (*avault_PQnoticeProcessor)(void *arg, const char *message);
typedef avault_PQnoticeProcessor (*avault_PQsetNoticeProcessor_fn)(avault_pg_conn *conn, avault_PQnoticeProcessor proc, void *arg);
typedef avault_pg_result *(*avault_PQexecParams_fn)(avault_pg_conn *conn, const char *command, int nParams,
                                                    const avault_pg_oid *paramTypes, const char *const *paramValues,
                                                    const int *paramLengths, const int *paramFormats, int resultFormat);
typedef int (*avault_PQresultStatus_fn)(const avault_pg_result *res);
typedef char *(*avault_PQresultErrorMessage_fn)(const avault_pg_result *res);
typedef char *(*avault_PQresultErrorField_fn)(const avault_pg_result *res, int fieldcode);
typedef int (*avault_PQntuples_fn)(const avault_pg_result *res);
typedef int (*avault_PQnfields_fn)(const avault_pg_result *res);
typedef char *(*avault_PQgetvalue_fn)(const avault_pg_result *res, int row, int column);
typedef int (*avault_PQgetlength_fn)(const avault_pg_result *res, int row, int column);
typedef int (*avault_PQgetisnull_fn)(const avault_pg_result *res, int row, int column);
typedef void (*avault_PQclear_fn)(avault_pg_result *res);
// Pipeline mode (libpq 14 and later; looked up optionally: without it, statements are sent one
// at a time).
typedef int (*avault_PQsendQueryParams_fn)(avault_pg_conn *conn, const char *command, int nParams,
                                           const avault_pg_oid *paramTypes, const char *const *paramValues,
                                           const int *paramLengths, const int *paramFormats, int resultFormat);
typedef avault_pg_result *(*avault_PQgetResult_fn)(avault_pg_conn *conn);
typedef int (*avault_PQenterPipelineMode_fn)(avault_pg_conn *conn);
typedef int (*avault_PQexitPipelineMode_fn)(avault_pg_conn *conn);
typedef int (*avault_PQpipelineSync_fn)(avault_pg_conn *conn);

/// PQconninfoOption of libpq-fe.h (the fields in their order).
typedef struct {
    char *keyword;
    char *envvar;
    char *compiled;
    char *val;
    char *label;
    char *dispchar;
    int dispsize;
} avault_PQconninfoOption;
typedef avault_PQconninfoOption *(*avault_PQconninfoParse_fn)(const char *conninfo, char **errmsg);
typedef void (*avault_PQconninfoFree_fn)(avault_PQconninfoOption *options);
typedef void (*avault_PQfreemem_fn)(void *ptr);

/// ConnStatusType's CONNECTION_OK.
static const int AVAULT_CONNECTION_OK = 0;
/// ExecStatusType's PGRES_COMMAND_OK and PGRES_TUPLES_OK.
static const int AVAULT_PGRES_COMMAND_OK = 1;
static const int AVAULT_PGRES_TUPLES_OK = 2;
/// ExecStatusType's PGRES_PIPELINE_SYNC and PGRES_PIPELINE_ABORTED.
static const int AVAULT_PGRES_PIPELINE_SYNC = 10;
static const int AVAULT_PGRES_PIPELINE_ABORTED = 11;
/// PG_DIAG_SQLSTATE.
static const int AVAULT_PG_DIAG_SQLSTATE = 'C';
/// The type OID of bytea.
static const avault_pg_oid AVAULT_BYTEA_OID = 17;
#endif
