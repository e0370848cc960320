"""A small LaminDB 0.72-era SQLite instance written with plain SQL (no LaminDB).

The tables mirror the Django schema of lnschema-core 0.67 (LaminDB 0.72) as the
reference describes it: ``lnschema_core_<model>`` tables, implicit M2M tables
``lnschema_core_<model>_<field>`` and explicit link models. Only the columns the
import reads are created, plus a few it must ignore.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DDL = """
CREATE TABLE lnschema_core_user (
  id INTEGER PRIMARY KEY, uid VARCHAR(8) NOT NULL, handle VARCHAR(30) NOT NULL UNIQUE,
  name VARCHAR(150), created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE lnschema_core_storage (
  id INTEGER PRIMARY KEY, uid VARCHAR(12) NOT NULL, root VARCHAR(255) NOT NULL UNIQUE,
  description VARCHAR(255), type VARCHAR(30) NOT NULL, region VARCHAR(64),
  instance_uid VARCHAR(12), created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_core_transform (
  id INTEGER PRIMARY KEY, uid VARCHAR(16) NOT NULL, name VARCHAR(150), key VARCHAR(120),
  description VARCHAR(255), type VARCHAR(20) NOT NULL, version VARCHAR(10),
  latest_report_id INTEGER, source_code_id INTEGER, reference VARCHAR(255),
  reference_type VARCHAR(25), created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL, created_by_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_transform_parents (
  id INTEGER PRIMARY KEY, from_transform_id INTEGER NOT NULL,
  to_transform_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_run (
  id INTEGER PRIMARY KEY, uid VARCHAR(20) NOT NULL, transform_id INTEGER NOT NULL,
  started_at DATETIME NOT NULL, finished_at DATETIME, created_by_id INTEGER NOT NULL,
  report_id INTEGER, environment_id INTEGER, is_consecutive BOOL,
  reference VARCHAR(255), reference_type VARCHAR(25), created_at DATETIME NOT NULL);
CREATE TABLE lnschema_core_ulabel (
  id INTEGER PRIMARY KEY, uid VARCHAR(8) NOT NULL, name VARCHAR(150) NOT NULL UNIQUE,
  description TEXT, reference VARCHAR(255), reference_type VARCHAR(25),
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_core_ulabel_parents (
  id INTEGER PRIMARY KEY, from_ulabel_id INTEGER NOT NULL,
  to_ulabel_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_feature (
  id INTEGER PRIMARY KEY, uid VARCHAR(12) NOT NULL, name VARCHAR(150) NOT NULL,
  dtype VARCHAR(64) NOT NULL, unit VARCHAR(30), description TEXT, synonyms TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_core_featureset (
  id INTEGER PRIMARY KEY, uid VARCHAR(20) NOT NULL, name VARCHAR(150),
  n INTEGER NOT NULL,
  dtype VARCHAR(64), registry VARCHAR(120) NOT NULL, hash VARCHAR(20),
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_core_featuresetfeature (
  id INTEGER PRIMARY KEY, featureset_id INTEGER NOT NULL, feature_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_artifact (
  id INTEGER PRIMARY KEY, uid VARCHAR(20) NOT NULL, storage_id INTEGER NOT NULL,
  key VARCHAR(255), suffix VARCHAR(30) NOT NULL, accessor VARCHAR(64),
  description VARCHAR(255), version VARCHAR(10), size BIGINT, hash VARCHAR(86),
  hash_type VARCHAR(30), n_objects BIGINT, n_observations BIGINT,
  transform_id INTEGER, run_id INTEGER, visibility SMALLINT NOT NULL,
  key_is_virtual BOOL NOT NULL, created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL, created_by_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_artifact_input_of (
  id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL, run_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_artifactulabel (
  id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL, ulabel_id INTEGER NOT NULL,
  feature_id INTEGER, ulabel_ref_is_name BOOL, feature_ref_is_name BOOL,
  created_at DATETIME NOT NULL, created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_core_artifactfeatureset (
  id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL, featureset_id INTEGER NOT NULL,
  slot VARCHAR(40), feature_ref_is_semantic BOOL, created_at DATETIME NOT NULL,
  created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_core_collection (
  id INTEGER PRIMARY KEY, uid VARCHAR(20) NOT NULL, name VARCHAR(150) NOT NULL,
  description TEXT, version VARCHAR(10), hash VARCHAR(86), reference VARCHAR(255),
  reference_type VARCHAR(25), transform_id INTEGER, run_id INTEGER,
  artifact_id INTEGER, visibility SMALLINT NOT NULL, created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL, created_by_id INTEGER NOT NULL);
CREATE TABLE lnschema_core_collectionartifact (
  id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL, artifact_id INTEGER NOT NULL,
  created_at DATETIME NOT NULL, created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE django_migrations (
  id INTEGER PRIMARY KEY, app VARCHAR(255), name VARCHAR(255), applied DATETIME);
"""

T0 = "2024-05-01 10:00:00.000000"
T1 = "2024-05-02 11:30:00.250000"

# Two artifact versions in one family (same 16-char stem), a folder-free instance.
ART1 = "Abcdefgh12345678" + "0000"
ART2 = "Abcdefgh12345678" + "0001"
ART3 = "Zyxwvuts98765432" + "0000"
CSV = b"perturbation,value\nDMSO,1\nIFNG,2\n"


def build(root: Path, instance_uid: str = "OldLaminDB01") -> Path:
    """Write the instance under ``root`` (its storage root) and return its db file."""
    lamindb = root / ".lamindb"
    lamindb.mkdir(parents=True, exist_ok=True)
    (lamindb / f"{ART1}.csv").write_bytes(CSV)
    (lamindb / f"{ART2}.csv").write_bytes(CSV + b"TNF,3\n")
    (root / "raw").mkdir(exist_ok=True)
    (root / "raw" / "counts.txt").write_bytes(b"12345\n")
    db = lamindb / "lamin.db"
    con = sqlite3.connect(db)
    con.executescript(DDL)
    q = con.execute
    q(
        "INSERT INTO lnschema_core_user VALUES (1,'DzTjkKse','falexwolf','Alex',?,?)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_user VALUES (2,'bKeW4T6E','sunnyosun','Sunny',?,?)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_storage VALUES "
        "(1,'3zDUgNKz3xW2',?,NULL,'local',NULL,"
        "?,?,?,1,NULL)",
        (root.as_posix(), instance_uid, T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_transform VALUES (1,'NJvdsWWbJlZS6K79','Intro',"
        "'introduction.ipynb',NULL,'notebook','1',NULL,NULL,NULL,NULL,?,?,1)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_transform VALUES (2,'Pbm9nMlF2vXz0000','train.py',"
        "'train.py',NULL,'script',NULL,NULL,NULL,NULL,NULL,?,?,2)",
        (T1, T1),
    )
    q("INSERT INTO lnschema_core_transform_parents VALUES (1,2,1)")
    q(
        "INSERT INTO lnschema_core_run VALUES (1,'kwkMGVHtKhxAxEnfAy5D',1,?,?,1,NULL,"
        "NULL,1,NULL,NULL,?)",
        (T0, T1, T0),
    )
    q(
        "INSERT INTO lnschema_core_run VALUES "
        "(2,'kCWQ3vIRSBC9kpGwvTYE',2,?,NULL,2,NULL,"
        "NULL,NULL,NULL,NULL,?)",
        (T1, T1),
    )
    for i, name in enumerate(["DMSO", "IFNG", "is_perturbation"], start=1):
        q(
            "INSERT INTO lnschema_core_ulabel VALUES (?,?,?,NULL,NULL,NULL,?,?,1,1)",
            (i, f"uLb{i:05d}", name, T0, T0),
        )
    q("INSERT INTO lnschema_core_ulabel_parents VALUES (1,1,3)")
    q("INSERT INTO lnschema_core_ulabel_parents VALUES (2,2,3)")
    q(
        "INSERT INTO lnschema_core_feature VALUES (1,'fEat00000001','perturbation',"
        "'cat[ULabel]',NULL,NULL,NULL,?,?,1,1)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_feature VALUES (2,'fEat00000002','value','int',"
        "NULL,NULL,NULL,?,?,1,1)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_featureset VALUES (1,'fSet0000000000000001',NULL,2,"
        "NULL,'Feature','hAsh0000000000000001',?,?,1,1)",
        (T0, T0),
    )
    q("INSERT INTO lnschema_core_featuresetfeature VALUES (1,1,1)")
    q("INSERT INTO lnschema_core_featuresetfeature VALUES (2,1,2)")
    q(
        "INSERT INTO lnschema_core_artifact VALUES (1,?,1,'data/df.csv','.csv',"
        "'DataFrame','my df','1',?,'md5hash1','md5',NULL,3,1,1,1,1,?,?,1)",
        (ART1, len(CSV), T0, T0),
    )
    q(
        "INSERT INTO lnschema_core_artifact VALUES (2,?,1,'data/df.csv','.csv',"
        "'DataFrame','my df','2',?,'md5hash2','md5',NULL,4,1,1,1,1,?,?,1)",
        (ART2, len(CSV) + 6, T1, T1),
    )
    q(
        "INSERT INTO lnschema_core_artifact VALUES (3,?,1,'raw/counts.txt','.txt',"
        "NULL,NULL,NULL,6,'md5hash3','md5',NULL,NULL,NULL,NULL,1,0,?,?,2)",
        (ART3, T1, T1),
    )
    q("INSERT INTO lnschema_core_artifact_input_of VALUES (1,2,2)")
    q(
        "INSERT INTO lnschema_core_artifactulabel VALUES (1,2,1,1,NULL,NULL,?,1,1)",
        (T0,),
    )
    q(
        "INSERT INTO lnschema_core_artifactulabel VALUES (2,2,2,1,NULL,NULL,?,1,1)",
        (T0,),
    )
    q(
        "INSERT INTO lnschema_core_artifactfeatureset VALUES (1,2,1,'columns',1,?,1,1)",
        (T0,),
    )
    q(
        "INSERT INTO lnschema_core_collection VALUES "
        "(1,'cOll0000000000000000','my coll',"
        "NULL,'1','cHash',NULL,NULL,2,2,NULL,1,?,?,2)",
        (T1, T1),
    )
    q("INSERT INTO lnschema_core_collectionartifact VALUES (1,1,2,?,2,2)", (T1,))
    q("INSERT INTO lnschema_core_collectionartifact VALUES (2,1,3,?,2,2)", (T1,))
    q(
        "INSERT INTO django_migrations VALUES (1,'lnschema_core','0001_initial',?)",
        (T0,),
    )
    con.commit()
    con.close()
    return db


BIONTY_DDL = """
CREATE TABLE lnschema_bionty_publicsource (
  id INTEGER PRIMARY KEY, uid VARCHAR(8) NOT NULL, entity VARCHAR(64) NOT NULL,
  organism VARCHAR(64) NOT NULL, source VARCHAR(64) NOT NULL,
  version VARCHAR(64) NOT NULL, in_db BOOL NOT NULL, currently_used BOOL NOT NULL,
  source_name TEXT, url TEXT, md5 TEXT, source_website TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_bionty_celltype (
  id INTEGER PRIMARY KEY, uid VARCHAR(8) NOT NULL, name VARCHAR(256) NOT NULL,
  ontology_id VARCHAR(32), abbr VARCHAR(32), synonyms TEXT, description TEXT,
  public_source_id INTEGER, created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL, created_by_id INTEGER NOT NULL, run_id INTEGER);
CREATE TABLE lnschema_bionty_celltype_parents (
  id INTEGER PRIMARY KEY, from_celltype_id INTEGER NOT NULL,
  to_celltype_id INTEGER NOT NULL);
CREATE TABLE lnschema_bionty_artifactcelltype (
  id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL, celltype_id INTEGER NOT NULL,
  feature_id INTEGER, celltype_ref_is_name BOOL, feature_ref_is_name BOOL);
"""


def add_bionty(db: Path) -> None:
    """Add bionty 0.72 tables with a T cell under a lymphocyte, linked to ART2."""
    con = sqlite3.connect(db)
    con.executescript(BIONTY_DDL)
    q = con.execute
    q(
        "INSERT INTO lnschema_bionty_publicsource VALUES (1,'5Xov8Lap','CellType',"
        "'all','cl','2023-08-24',0,1,'Cell Ontology',NULL,NULL,NULL,?,?,1,NULL)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_bionty_celltype VALUES (1,'22LvKd01','T cell',"
        "'CL:0000084',NULL,'T-cell|T lymphocyte',NULL,1,?,?,1,NULL)",
        (T0, T0),
    )
    q(
        "INSERT INTO lnschema_bionty_celltype VALUES (2,'7bu7xYXz','lymphocyte',"
        "'CL:0000542',NULL,NULL,NULL,1,?,?,1,NULL)",
        (T0, T0),
    )
    q("INSERT INTO lnschema_bionty_celltype_parents VALUES (1,1,2)")
    q(
        "INSERT INTO lnschema_core_feature VALUES (3,'fEat00000003','cell_type',"
        "'cat[bionty.CellType]',NULL,NULL,NULL,?,?,1,1)",
        (T0, T0),
    )
    q("INSERT INTO lnschema_bionty_artifactcelltype VALUES (1,2,1,3,NULL,NULL)")
    con.commit()
    con.close()
