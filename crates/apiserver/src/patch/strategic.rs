//! Strategic merge patch (`application/strategic-merge-patch+json`) application, as
//! kube-apiserver v1.32 applies it to built-in kinds (apimachinery's
//! `strategicpatch.StrategicMergeMapPatch`, server side: parallel lists merged, nulls dropped).
//!
//! The algorithm follows kube step by step, including its quirks: values new to the object lose
//! their nulls and `$patch` maps, replaced lists and `$patch: replace` maps keep them; list order
//! is `$setElementOrder` first, then the patch's order, then the live object's.

use super::schema::{Field, Strategy, TypeSchema};
use serde_json::{Map, Value};

type Object = Map<String, Value>;
type Result<T> = std::result::Result<T, StrategicPatchError>;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Why a strategic merge patch could not be applied. Messages are kube's error texts (Go's
/// `%v` rendering included), which is also why some start with a capital letter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategicPatchError {
    /// The patch body is not a JSON object. 400 BadRequest: kube fails to decode it into a map.
    #[error("json: cannot unmarshal {0} into Go value of type map[string]interface {{}}")]
    NotAnObject(&'static str),
    /// A `$deleteFromPrimitiveList` key without `/<field>`. 400 BadRequest.
    #[error("invalid patch format of primitive list")]
    BadPrimitiveList,
    /// `$retainKeys` is not a list, or the patch sets a field it does not list. 400 BadRequest.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeys,
    /// A `$setElementOrder` key without `/<field>`. 400 BadRequest.
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrder,
    /// A list whose elements are lists. 422 Invalid, with a generic message (see
    /// [`Self::status_message`]).
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A list-of-maps element without its merge key. 500: kube passes the error on unconverted.
    #[error("map: {map} does not contain declared merge key: {key}")]
    MissingMergeKey { map: String, key: String },
    /// A `$patch` value other than replace/delete (or merge in a list). 500.
    #[error("unknown patch type: {value} in map: {map}")]
    UnknownPatchType { value: String, map: String },
    /// `$patch: merge` on a list element. 500.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// A field lookup failed, e.g. "unable to find api field in struct PodSpec for the json
    /// field \"x\"". 500.
    #[error("{0}")]
    Schema(String),
    /// Any other strategicpatch error (mismatched element types, `$setElementOrder` not matching
    /// the patch list...). 500.
    #[error("{0}")]
    Other(String),
    /// kube's Go code panics on this input (e.g. comparing two maps used as merge keys); its
    /// panic filter answers 500 with a plain-text body, see [`Self::status_message`].
    #[error("{0}")]
    Panic(&'static str),
}

impl StrategicPatchError {
    /// The HTTP status kube-apiserver answers with (`interpretStrategicMergePatchError` in
    /// apiserver's endpoints/handlers/patch.go maps the format errors to 400 and 422, and passes
    /// every other error on unconverted, which the response writer turns into a 500).
    pub fn http_code(&self) -> u16 {
        use StrategicPatchError::*;
        match self {
            NotAnObject(_) | BadPrimitiveList | BadRetainKeys | BadSetElementOrder => 400,
            ListOfLists => 422,
            MissingMergeKey { .. }
            | UnknownPatchType { .. }
            | MergeDirectiveInList
            | Schema(_)
            | Other(_)
            | Panic(_) => 500,
        }
    }

    /// The `reason` of the metav1.Status kube answers with: "" (Unknown) for the 500s.
    pub fn status_reason(&self) -> &'static str {
        match self.http_code() {
            400 => "BadRequest",
            422 => "Invalid",
            _ => "",
        }
    }

    /// The `message` of the metav1.Status kube answers with. The 422 comes from
    /// NewGenericServerResponse, which drops the error text; a panic is answered in plain text
    /// (not a Status) with this message.
    pub fn status_message(&self) -> String {
        match self {
            Self::ListOfLists => "the server rejected our request due to an error in our request".into(),
            Self::Panic(_) => "This request caused apiserver to panic. Look in the logs for details.".into(),
            other => other.to_string(),
        }
    }
}

/// Applies a strategic merge `patch` to `original` (a whole object), using `schema` for the
/// patch strategies and merge keys of its fields.
pub fn apply(original: &Value, patch: &Value, schema: &'static TypeSchema) -> Result<Value> {
    let original = match original {
        Value::Object(map) => map.clone(),
        other => return Err(bad_arg_type("map[string]interface {}", other)),
    };
    let patch = match patch {
        Value::Object(map) => map.clone(),
        // JSON null decodes into a nil map: nothing to merge.
        Value::Null => Object::new(),
        Value::Bool(_) => return Err(StrategicPatchError::NotAnObject("bool")),
        Value::Number(_) => return Err(StrategicPatchError::NotAnObject("number")),
        Value::String(_) => return Err(StrategicPatchError::NotAnObject("string")),
        Value::Array(_) => return Err(StrategicPatchError::NotAnObject("array")),
    };
    merge_map(original, patch, schema).map(Value::Object)
}

/// kube's mergeMap.
fn merge_map(mut original: Object, mut patch: Object, schema: &TypeSchema) -> Result<Object> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            // The patch itself, directives and nulls included, replaces the map.
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                Ok(patch)
            }
            Some("delete") => Ok(Object::new()),
            _ => Err(unknown_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    apply_element_orders(&mut original, &mut patch, schema)?;
    for (key, value) in patch {
        merge_field(&mut original, key, value, schema)?;
    }
    Ok(original)
}

/// One key of mergeMap's main loop.
fn merge_field(original: &mut Object, key: String, value: Value, schema: &TypeSchema) -> Result<()> {
    let (key, delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
        let field = strip_directive(&key, DELETE_FROM_PRIMITIVE_LIST);
        (field.ok_or(StrategicPatchError::BadPrimitiveList)?, true)
    } else {
        (key, false)
    };
    if value.is_null() {
        original.shift_remove(&key);
        return Ok(());
    }
    let Some(slot) = original.get_mut(&key) else {
        if !delete_list {
            put_new_value(original, key, value);
        }
        return Ok(());
    };
    if go_type(slot) != go_type(&value) {
        if !delete_list {
            put_new_value(original, key, value);
        }
        return Ok(());
    }
    let merged = match (std::mem::take(slot), value) {
        (Value::Object(current), Value::Object(patch)) => {
            let field = schema.field(&key).map_err(StrategicPatchError::Schema)?;
            if field.strategy == Strategy::Replace {
                Value::Object(patch)
            } else {
                Value::Object(merge_map(current, patch, field.schema)?)
            }
        }
        (Value::Array(current), Value::Array(patch)) => {
            let field = schema.field(&key).map_err(StrategicPatchError::Schema)?;
            Value::Array(merge_list_field(current, patch, &field, delete_list)?)
        }
        // Scalars of the same Go type: the patch wins.
        (_, value) => value,
    };
    original.insert(key, merged);
    Ok(())
}

/// Stores a patch value that is not merged with anything: kube drops its nulls and every map
/// carrying a `$patch` directive (a value that is itself such a map removes the key).
fn put_new_value(original: &mut Object, key: String, mut value: Value) {
    discard_nulls(&mut value);
    match remove_directives(value) {
        Some(value) => original.insert(key, value),
        None => original.shift_remove(&key),
    };
}

fn discard_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(discard_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key(DIRECTIVE) => None,
        Value::Object(map) => {
            Some(Value::Object(map.into_iter().filter_map(|(k, v)| Some((k, remove_directives(v)?))).collect()))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(remove_directives).collect())),
        other => Some(other),
    }
}

/// `$retainKeys: [...]`: clears the fields of `original` it does not list. Every field the patch
/// sets must be listed.
fn apply_retain_keys(original: &mut Object, patch: &mut Object) -> Result<()> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(StrategicPatchError::BadRetainKeys);
    };
    // kube puts the entries in a Go map: a map or list entry panics.
    if retain.iter().any(|v| v.is_object() || v.is_array()) {
        return Err(unhashable(&retain));
    }
    let kept = |key: &str| retain.iter().any(|v| v.as_str() == Some(key));
    let unlisted = patch.iter().any(|(k, v)| {
        !(v.is_null() || k.starts_with(DELETE_FROM_PRIMITIVE_LIST) || k.starts_with(SET_ELEMENT_ORDER) || kept(k))
    });
    if unlisted {
        return Err(StrategicPatchError::BadRetainKeys);
    }
    original.retain(|k, _| kept(k));
    Ok(())
}

/// `$setElementOrder/<field>: [...]` (kube's mergePatchIntoOriginal): merges the patch list of
/// `<field>` if any, then orders the result: listed items first, as listed, with the items only
/// the server knows slotted back where the live list had them.
fn apply_element_orders(original: &mut Object, patch: &mut Object, schema: &TypeSchema) -> Result<()> {
    let keys: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
    for key in keys {
        let Some(order) = patch.shift_remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let field_key = strip_directive(&key, SET_ELEMENT_ORDER).ok_or(StrategicPatchError::BadSetElementOrder)?;
        let current = list_at(original, &field_key)?;
        let patch_list = list_at(patch, &field_key)?;
        let field = schema.field(&field_key).map_err(StrategicPatchError::Schema)?;
        let merge_key = field.merge_key.unwrap_or("");
        check_patch_order(patch_list.as_deref().unwrap_or_default(), &order, merge_key)?;
        let merged = match (current.clone(), patch_list.clone()) {
            (Some(current), None) => current,
            (None, Some(new)) => new.into_iter().filter_map(remove_directives).collect(),
            (Some(current), Some(new)) => merge_list_field(current, new, &field, false)?,
            (None, None) => continue,
        };
        let (current, patch_list) = (current.unwrap_or_default(), patch_list.unwrap_or_default());
        let (listed, server_only) = partition(merged, &order, merge_key)?;
        let kind = element_type(&[&current, &patch_list])?;
        let live = if field.strategy == Strategy::Merge && kind == GoType::Map && !patch_list.is_empty() {
            live_list_after_merge(&current, &patch_list, merge_key)
        } else {
            current
        };
        let ordered = normalize_order(listed, server_only, &order, &live, merge_key, kind)?;
        original.insert(field_key.clone(), Value::Array(ordered));
        patch.shift_remove(&field_key);
    }
    Ok(())
}

/// The live list as kube still sees it after mergeSlice worked in place on the list's Go
/// backing array: each `$patch: delete` shifts the later items left (the last slot keeping a
/// stale copy), then new items fill the freed slots. kube slots the server-only items back by
/// this view, so deletions move items appended by the same patch ahead of them.
fn live_list_after_merge(current: &[Value], patch: &[Value], merge_key: &str) -> Vec<Value> {
    let same_key =
        |item: &Value, value: &Value| item.get(merge_key).is_some_and(|key| matches!(go_eq(key, value), Ok(true)));
    let mut slots = current.to_vec();
    let mut len = slots.len();
    let mut rest = Vec::new();
    let mut replace = false;
    for item in patch {
        match item.get(DIRECTIVE).and_then(Value::as_str) {
            Some("delete") => {
                let Some(value) = item.get(merge_key) else {
                    continue;
                };
                while let Some(i) = slots[..len].iter().position(|v| same_key(v, value)) {
                    for k in i..len - 1 {
                        slots[k] = slots[k + 1].clone();
                    }
                    len -= 1;
                }
            }
            Some("replace") => replace = true,
            Some(_) => {}
            None => rest.push(item),
        }
    }
    if replace {
        // The rest of the patch became the list, in a new array.
        return slots;
    }
    let mut list: Vec<&Value> = slots[..len].iter().collect();
    let appended: Vec<&Value> = rest
        .into_iter()
        .filter(|item| {
            let Some(value) = item.get(merge_key) else {
                return false;
            };
            let new = !list.iter().any(|v| same_key(v, value));
            if new {
                list.push(item);
            }
            new
        })
        .collect();
    for (slot, item) in slots.iter_mut().skip(len).zip(appended) {
        *slot = item.clone();
    }
    slots
}

fn list_at(map: &Object, key: &str) -> Result<Option<Vec<Value>>> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad_arg_type("[]interface {}", other)),
    }
}

/// kube's validatePatchWithSetOrderList: the patch list (deletions aside) must follow the order.
fn check_patch_order(patch_list: &[Value], order: &[Value], merge_key: &str) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let mut items: Vec<&Value> = patch_list.iter().collect();
    if !merge_key.is_empty() {
        for item in &items {
            if !item.is_object() {
                return Err(bad_arg_type("map[string]interface {}", item));
            }
        }
        items.retain(|item| item.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"));
    }
    let (mut i, mut j) = (0, 0);
    while i < items.len() && j < order.len() {
        if items[i].get(DIRECTIVE).is_some() {
            i += 1;
            continue;
        }
        if merge_key_equal(items[i], &order[j], merge_key)? {
            i += 1;
        }
        j += 1;
    }
    if i < items.len() {
        return Err(StrategicPatchError::Other(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_list(patch_list),
            go_list(order)
        )));
    }
    Ok(())
}

fn merge_key_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return go_eq(left, right);
    }
    let value_of = |item: &Value| match item {
        Value::Object(map) => map.get(merge_key).cloned().ok_or_else(|| missing_merge_key(map, merge_key)),
        other => Err(bad_arg_type("map[string]interface {}", other)),
    };
    go_eq(&value_of(left)?, &value_of(right)?)
}

/// kube's mergeSliceHandler: merge lists merge, others are replaced by the (raw) patch list.
/// `$deleteFromPrimitiveList` deletes whatever the field's strategy.
fn merge_list_field(current: Vec<Value>, patch: Vec<Value>, field: &Field, delete_list: bool) -> Result<Vec<Value>> {
    if field.strategy == Strategy::Merge || delete_list {
        merge_list(current, patch, field.schema, field.merge_key.unwrap_or(""), delete_list)
    } else {
        Ok(patch)
    }
}

/// kube's mergeSlice.
fn merge_list(
    current: Vec<Value>,
    patch: Vec<Value>,
    element: &TypeSchema,
    merge_key: &str,
    delete_list: bool,
) -> Result<Vec<Value>> {
    if current.is_empty() && patch.is_empty() {
        return Ok(current);
    }
    let kind = element_type(&[&current, &patch])?;
    let (merged, server_order, patch_order) = if kind != GoType::Map {
        if delete_list {
            return Ok(current.into_iter().filter(|v| !patch.contains(v)).collect());
        }
        let mut merged: Vec<Value> = Vec::with_capacity(current.len() + patch.len());
        for item in current.iter().chain(&patch) {
            if !merged.contains(item) {
                merged.push(item.clone());
            }
        }
        (merged, current, patch)
    } else {
        if merge_key.is_empty() {
            return Err(StrategicPatchError::Other(format!(
                "cannot merge lists without merge key for {}",
                element.kind_name()
            )));
        }
        let (current, patch) = apply_list_directives(current, patch, merge_key)?;
        let merged = merge_by_key(current.clone(), &patch, merge_key, element)?;
        (merged, current, patch)
    };
    let (in_patch, server_only) = partition(merged, &patch_order, merge_key)?;
    normalize_order(in_patch, server_only, &patch_order, &server_order, merge_key, kind)
}

/// kube's mergeSliceWithSpecialElements: `$patch: delete` removes the matching items,
/// `$patch: replace` makes the rest of the patch list the whole list.
fn apply_list_directives(
    mut current: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut rest = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = &item else {
            rest.push(item);
            continue;
        };
        let Some(directive) = map.get(DIRECTIVE) else {
            rest.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = map.get(merge_key).ok_or_else(|| missing_merge_key(map, merge_key))?;
                let mut kept = Vec::with_capacity(current.len());
                for element in current {
                    if find_by_key(std::slice::from_ref(&element), merge_key, value)?.is_none() {
                        kept.push(element);
                    }
                }
                current = kept;
            }
            // Keep going: later directives are still checked.
            Some("replace") => replace = true,
            Some("merge") => return Err(StrategicPatchError::MergeDirectiveInList),
            _ => return Err(unknown_patch_type(directive, map)),
        }
    }
    Ok(if replace { (rest, Vec::new()) } else { (current, rest) })
}

/// kube's mergeSliceWithoutSpecialElements: patch items merge into the item with the same merge
/// key value, or are appended as they are.
fn merge_by_key(mut current: Vec<Value>, patch: &[Value], merge_key: &str, element: &TypeSchema) -> Result<Vec<Value>> {
    for item in patch {
        let Value::Object(map) = item else { continue };
        let value = map.get(merge_key).ok_or_else(|| missing_merge_key(map, merge_key))?;
        match find_by_key(&current, merge_key, value)? {
            Some(index) => {
                let Value::Object(found) = std::mem::take(&mut current[index]) else {
                    continue;
                };
                current[index] = Value::Object(merge_map(found, map.clone(), element)?);
            }
            None => current.push(item.clone()),
        }
    }
    Ok(current)
}

/// kube's findMapInSliceBasedOnKeyValue.
fn find_by_key(list: &[Value], merge_key: &str, value: &Value) -> Result<Option<usize>> {
    for (index, item) in list.iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(StrategicPatchError::Other(format!("value for key {index} is not a map.")));
        };
        if let Some(candidate) = map.get(merge_key) {
            if go_eq(candidate, value)? {
                return Ok(Some(index));
            }
        }
    }
    Ok(None)
}

/// Splits `merged` into the items present in `by` (by merge key, or by value for scalars) and
/// the others, keeping their order.
fn partition(merged: Vec<Value>, by: &[Value], merge_key: &str) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut listed = Vec::new();
    let mut others = Vec::new();
    if merge_key.is_empty() {
        // kube indexes `by` in a Go map: map or list items panic.
        if by.iter().chain(&merged).any(|v| v.is_object() || v.is_array()) {
            return Err(unhashable(&[by, &merged].concat()));
        }
        for item in merged {
            if by.contains(&item) {
                listed.push(item)
            } else {
                others.push(item)
            }
        }
        return Ok((listed, others));
    }
    for item in merged {
        let Value::Object(map) = &item else {
            return Err(bad_arg_type("map[string]interface {}", &item));
        };
        let value = map.get(merge_key).ok_or_else(|| missing_merge_key(map, merge_key))?;
        if find_by_key(by, merge_key, value)?.is_some() {
            listed.push(item)
        } else {
            others.push(item)
        }
    }
    Ok((listed, others))
}

/// kube's normalizeElementOrder: sorts the patch items by `patch_order` and the server-only
/// items by `server_order`, then interleaves them by their positions in `server_order`.
fn normalize_order(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>> {
    let right = sort_by_order(in_patch, patch_order, merge_key, kind)?;
    let left = sort_by_order(server_only, server_order, merge_key, kind)?;
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let before = match (index_in(server_order, l, merge_key, kind)?, index_in(server_order, r, merge_key, kind)?) {
            (Some(li), Some(ri)) => li < ri,
            _ => false,
        };
        merged.extend(if before { left.next() } else { right.next() });
    }
    merged.extend(left);
    merged.extend(right);
    Ok(merged)
}

/// kube's normalizeSliceOrder: a stable sort by position in `order`, deletions last.
fn sort_by_order(items: Vec<Value>, order: &[Value], merge_key: &str, kind: GoType) -> Result<Vec<Value>> {
    let (mut items, deletions): (Vec<Value>, Vec<Value>) = if kind == GoType::Map {
        for item in items.iter().chain(order) {
            match item {
                Value::Object(map) if !map.contains_key(merge_key) => return Err(missing_merge_key(map, merge_key)),
                Value::Object(_) => {}
                other => return Err(bad_arg_type("map[string]interface {}", other)),
            }
        }
        items.into_iter().partition(|item| item.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
    } else {
        (items, Vec::new())
    };
    let keys = items.iter().map(|item| index_in(order, item, merge_key, kind)).collect::<Result<Vec<_>>>()?;
    if keys.iter().all(Option::is_some) {
        let mut keyed: Vec<_> = keys.into_iter().zip(items).collect();
        keyed.sort_by_key(|(key, _)| *key);
        items = keyed.into_iter().map(|(_, item)| item).collect();
    } else {
        // Go's sort.SliceStable with kube's comparator, which says "less" whenever an item is
        // missing from `order`. Go insertion-sorts up to 20 items, so this is exact there.
        let mut keyed: Vec<_> = keys.into_iter().zip(items).collect();
        for i in 1..keyed.len() {
            let mut j = i;
            while j > 0 && go_less(keyed[j].0, keyed[j - 1].0) {
                keyed.swap(j, j - 1);
                j -= 1;
            }
        }
        items = keyed.into_iter().map(|(_, item)| item).collect();
    }
    items.extend(deletions);
    Ok(items)
}

fn go_less(a: Option<usize>, b: Option<usize>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    }
}

/// kube's index(): the position of `item` in `list`, comparing merge key values for maps.
fn index_in(list: &[Value], item: &Value, merge_key: &str, kind: GoType) -> Result<Option<usize>> {
    let wanted = compared_part(item, merge_key, kind);
    for (index, candidate) in list.iter().enumerate() {
        if go_eq(compared_part(candidate, merge_key, kind), wanted)? {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// What kube's index() compares: the merge key value of a map (nil when absent), or the item.
fn compared_part<'a>(item: &'a Value, merge_key: &str, kind: GoType) -> &'a Value {
    static NIL: Value = Value::Null;
    match kind {
        GoType::Map => item.get(merge_key).unwrap_or(&NIL),
        _ => item,
    }
}

/// The element type shared by all items of `lists` (kube's sliceElementType).
fn element_type(lists: &[&[Value]]) -> Result<GoType> {
    let mut found = None;
    for item in lists.iter().flat_map(|list| list.iter()) {
        let kind = go_type(item);
        match found {
            // Go calls a method on the nil reflect.Type of a null first element.
            None if kind == GoType::Nil => {
                return Err(StrategicPatchError::Panic(
                    "runtime error: invalid memory address or nil pointer dereference",
                ));
            }
            None if kind == GoType::Slice => return Err(StrategicPatchError::ListOfLists),
            None => found = Some(kind),
            Some(previous) if previous != kind => {
                let all: Vec<String> = lists.iter().map(|list| go_list(list)).collect();
                return Err(StrategicPatchError::Other(format!(
                    "list element types are not identical: [{}]",
                    all.join(" ")
                )));
            }
            Some(_) => {}
        }
    }
    found.ok_or_else(|| StrategicPatchError::Other("no elements in any of the given slices".into()))
}

/// `<prefix>/<field>` → `<field>`.
fn strip_directive(key: &str, prefix: &str) -> Option<String> {
    let (head, field) = key.split_once('/')?;
    (head == prefix).then(|| field.to_string())
}

fn missing_merge_key(map: &Object, key: &str) -> StrategicPatchError {
    StrategicPatchError::MissingMergeKey { map: go_map(map, false), key: key.to_string() }
}

fn unknown_patch_type(value: &Value, map: &Object) -> StrategicPatchError {
    StrategicPatchError::UnknownPatchType { value: go_fmt(value, true), map: go_map(map, false) }
}

/// mergepatch.ErrBadArgType.
fn bad_arg_type(expected: &str, actual: &Value) -> StrategicPatchError {
    StrategicPatchError::Other(format!("expected a {expected}, but received a {}", go_type(actual).name()))
}

fn unhashable(items: &[Value]) -> StrategicPatchError {
    let map = items.iter().any(Value::is_object);
    StrategicPatchError::Panic(if map {
        "runtime error: hash of unhashable type map[string]interface {}"
    } else {
        "runtime error: hash of unhashable type []interface {}"
    })
}

/// The Go type a JSON value decodes to in kube (integers become int64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoType {
    Nil,
    Bool,
    Int,
    Float,
    String,
    Slice,
    Map,
}

impl GoType {
    fn name(self) -> &'static str {
        match self {
            GoType::Nil => "%!s(<nil>)",
            GoType::Bool => "bool",
            GoType::Int => "int64",
            GoType::Float => "float64",
            GoType::String => "string",
            GoType::Slice => "[]interface {}",
            GoType::Map => "map[string]interface {}",
        }
    }
}

fn go_type(value: &Value) -> GoType {
    match value {
        Value::Null => GoType::Nil,
        Value::Bool(_) => GoType::Bool,
        Value::Number(n) if n.is_i64() => GoType::Int,
        Value::Number(_) => GoType::Float,
        Value::String(_) => GoType::String,
        Value::Array(_) => GoType::Slice,
        Value::Object(_) => GoType::Map,
    }
}

/// Go's `==` on two interface{} values: false across types, a runtime panic for two maps or
/// two slices.
fn go_eq(a: &Value, b: &Value) -> Result<bool> {
    match (go_type(a), go_type(b)) {
        (GoType::Map, GoType::Map) => {
            Err(StrategicPatchError::Panic("runtime error: comparing uncomparable type map[string]interface {}"))
        }
        (GoType::Slice, GoType::Slice) => {
            Err(StrategicPatchError::Panic("runtime error: comparing uncomparable type []interface {}"))
        }
        (x, y) => Ok(x == y && a == b),
    }
}

/// Go's `%v` (or `%s` when `as_s`) rendering of a decoded JSON value, as kube's messages show it.
fn go_fmt(value: &Value, as_s: bool) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(|v| go_fmt(v, as_s)).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => go_map(map, as_s),
        scalar => {
            let plain = match scalar {
                Value::Null => "<nil>".to_string(),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => i.to_string(),
                    None => go_float(n.as_f64().unwrap_or_default()),
                },
                other => other.to_string(),
            };
            match (as_s, go_type(scalar)) {
                (false, _) => plain,
                (true, GoType::Nil) => "%!s(<nil>)".into(),
                (true, kind) => format!("%!s({}={plain})", kind.name()),
            }
        }
    }
}

fn go_list(items: &[Value]) -> String {
    go_fmt(&Value::Array(items.to_vec()), false)
}

/// Go prints maps with their keys sorted.
fn go_map(map: &Object, as_s: bool) -> String {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = entries.iter().map(|(k, v)| format!("{k}:{}", go_fmt(v, as_s))).collect();
    format!("map[{}]", body.join(" "))
}

/// Go's `%v` of a float64 (strconv's 'g' with the shortest precision): exponent form when the
/// decimal exponent is below -4 or at least 6, e.g. `1.5`, `1e-05`, `1.234567e+06`.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Go's shortest formatting does.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize));
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::{for_kind, metadata_only, MAP, OPAQUE};
    use serde_json::json;

    // The MergeItem test struct of apimachinery's patch_test.go.
    static MERGE_ITEM: TypeSchema = TypeSchema::closed(
        "MergeItem",
        "name value other mergingList nonMergingList mergingIntList nonMergingIntList \
         mergeItemPtr simpleMap replacingItem jsonItem retainKeysMap retainKeysMergingList",
        &[
            ("mergingList", Field::merge("name", &MERGE_ITEM)),
            ("nonMergingList", Field::of(&MERGE_ITEM)),
            ("mergingIntList", Field::set(&INT)),
            ("nonMergingIntList", Field::of(&INT)),
            ("mergeItemPtr", Field::merge("name", &MERGE_ITEM)),
            ("simpleMap", Field::of(&MAP)),
            ("replacingItem", Field::replace(&OPAQUE)),
            ("retainKeysMap", Field::retain_keys(&RETAIN_KEYS_ITEM)),
            ("retainKeysMergingList", Field::merge_retain_keys("name", &MERGE_ITEM)),
        ],
    );
    static RETAIN_KEYS_ITEM: TypeSchema = TypeSchema::closed(
        "RetainKeysMergeItem",
        "name value other simpleMap mergingIntList mergingList nonMergingList",
        &[
            ("simpleMap", Field::of(&MAP)),
            ("mergingIntList", Field::set(&INT)),
            ("mergingList", Field::merge("name", &MERGE_ITEM)),
            ("nonMergingList", Field::of(&MERGE_ITEM)),
        ],
    );
    static INT: TypeSchema = TypeSchema::scalar("int");

    fn check(cases: Vec<(&str, Value, Value, Value)>) {
        for (name, original, patch, expected) in cases {
            match apply(&original, &patch, &MERGE_ITEM) {
                Ok(result) => assert_eq!(result, expected, "{name}"),
                Err(err) => panic!("{name}: {err}"),
            }
        }
    }

    fn error(original: Value, patch: Value) -> StrategicPatchError {
        apply(&original, &patch, &MERGE_ITEM).expect_err("patch should fail")
    }

    #[test]
    fn custom_cases_from_patch_test() {
        check(vec![
            (
                "unique scalars when merging lists",
                json!({"mergingIntList": [1, 2]}),
                json!({"mergingIntList": [2, 3]}),
                json!({"mergingIntList": [1, 2, 3]}),
            ),
            (
                "delete map from nested map",
                json!({"simpleMap": {"key1": 1, "key2": 1}}),
                json!({"simpleMap": {"$patch": "delete"}}),
                json!({"simpleMap": {}}),
            ),
            (
                "delete all items from merging list",
                json!({"mergingList": [{"name": 1}, {"name": 2}]}),
                json!({"mergingList": [{"$patch": "replace"}]}),
                json!({"mergingList": []}),
            ),
            (
                "merge empty merging lists",
                json!({"mergingList": []}),
                json!({"mergingList": []}),
                json!({"mergingList": []}),
            ),
            ("delete all keys from map", json!({"name": 1, "value": 1}), json!({"$patch": "replace"}), json!({})),
            (
                "add key and delete all keys from map",
                json!({"name": 1, "value": 1}),
                json!({"other": "a", "$patch": "replace"}),
                json!({"other": "a"}),
            ),
            (
                "delete all duplicate entries in a merging list",
                json!({"mergingList": [{"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}]}),
                json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]}),
                json!({"mergingList": [{"name": 2, "value": "a"}]}),
            ),
            (
                "retainKeys map can add a field when no retainKeys directive present",
                json!({"retainKeysMap": {"name": "foo"}}),
                json!({"retainKeysMap": {"value": "bar"}}),
                json!({"retainKeysMap": {"name": "foo", "value": "bar"}}),
            ),
            (
                "retainKeys map can delete a field when no retainKeys directive present",
                json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
                json!({"retainKeysMap": {"value": null}}),
                json!({"retainKeysMap": {"name": "foo"}}),
            ),
            (
                "retainKeys map merge an empty map",
                json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
                json!({"retainKeysMap": {}}),
                json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            ),
            (
                "retainKeys list can change a field when no retainKeys directive present",
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
                json!({"retainKeysMergingList": [{"name": "foo", "value": "b"}]}),
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "b"}]}),
            ),
            (
                "preserve the order from the patch in a merging list",
                json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
                json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}]}),
                json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "value": "b", "other": "x"}]}),
            ),
            (
                "preserve the order from the patch in a merging list 2",
                json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
                json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}),
                json!({"mergingList": [{"name": 2, "value": "b"}, {"name": 3, "value": "c"}, {"name": 1, "value": "a"}]}),
            ),
            (
                "preserve the order from the patch in a merging int list",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"mergingIntList": [3, 1, 2]}),
                json!({"mergingIntList": [3, 1, 2]}),
            ),
            (
                "preserve the order from the patch in a merging int list 2",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"mergingIntList": [3, 1]}),
                json!({"mergingIntList": [2, 3, 1]}),
            ),
            (
                "$setElementOrder contains item that is not present in the list to be merged",
                json!({"mergingList": [{"name": 1}, {"name": 3}]}),
                json!({"$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
                    "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
                json!({"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
            ),
            (
                "$setElementOrder contains item that is not present in the int list to be merged",
                json!({"mergingIntList": [1, 3]}),
                json!({"$setElementOrder/mergingIntList": [3, 2, 1]}),
                json!({"mergingIntList": [3, 1]}),
            ),
            (
                "$deleteFromPrimitiveList of nonexistent item",
                json!({"mergingIntList": [1, 2]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [1, 2]}),
            ),
            (
                "$deleteFromPrimitiveList on empty primitive list",
                json!({"mergingIntList": null}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": null}),
            ),
            (
                "$deleteFromPrimitiveList on nonexistent primitive list",
                json!({"foo": ["bar"]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"foo": ["bar"]}),
            ),
            (
                "$deleteFromPrimitiveList with merge patch strategy",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [2]}),
                json!({"mergingIntList": [1, 3]}),
            ),
            (
                "$deleteFromPrimitiveList without merge patch strategy",
                json!({"nonMergingIntList": [1, 2, 3]}),
                json!({"$deleteFromPrimitiveList/nonMergingIntList": [2]}),
                json!({"nonMergingIntList": [1, 3]}),
            ),
        ]);
    }

    #[test]
    fn raw_two_way_cases_from_patch_test() {
        check(vec![
            (
                "nested patch merge with empty list",
                json!({"name": "hi"}),
                json!({"mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]}),
                json!({"name": "hi", "mergingList": [{"name": "hello"}]}),
            ),
            (
                "delete items in lists of scalars",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [1, 2]}),
            ),
            (
                "add and delete items in lists of scalars",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$setElementOrder/mergingIntList": [1, 2, 4], "$deleteFromPrimitiveList/mergingIntList": [3],
                    "mergingIntList": [4]}),
                json!({"mergingIntList": [1, 2, 4]}),
            ),
            (
                "merge lists of maps",
                json!({"mergingList": [{"name": 1}, {"name": 2, "value": 2}]}),
                json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
                    "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]}),
                json!({"mergingList": [{"name": 4, "value": 4}, {"name": 1}, {"name": 2, "value": 2}, {"name": 3, "value": 3}]}),
            ),
            (
                "delete field from map in merging list",
                json!({"mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}]}),
                json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}], "mergingList": [{"name": 1, "value": null}]}),
                json!({"mergingList": [{"name": 1}, {"name": 2, "value": 2}]}),
            ),
            (
                "delete map from merging list",
                json!({"mergingList": [{"name": 1}, {"name": 2}]}),
                json!({"$setElementOrder/mergingList": [{"name": 2}], "mergingList": [{"name": 1, "$patch": "delete"}]}),
                json!({"mergingList": [{"name": 2}]}),
            ),
            (
                "delete an item in a int list and preserve order",
                json!({"mergingIntList": [1, 3, 2]}),
                json!({"$setElementOrder/mergingIntList": [2, 1], "$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [2, 1]}),
            ),
            (
                "set elements order in a int list",
                json!({"mergingIntList": [1, 3, 4, 2]}),
                json!({"$setElementOrder/mergingIntList": [4, 2, 3, 1]}),
                json!({"mergingIntList": [4, 2, 3, 1]}),
            ),
            (
                "behavior of set element order for a merging list with duplicate",
                json!({"mergingList": [{"name": 1}, {"name": 2, "value": "dup1"}, {"name": 3}, {"name": 2, "value": "dup2"}, {"name": 4}]}),
                json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}, {"name": 2}]}),
                json!({"mergingList": [{"name": 2, "value": "dup1"}, {"name": 2, "value": "dup2"}, {"name": 1}, {"name": 4}, {"name": 3}]}),
            ),
            (
                "behavior of set element order for a merging int list with duplicate",
                json!({"mergingIntList": [1, 2, 3, 2, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3, 2]}),
                json!({"mergingIntList": [2, 2, 1, 4, 3]}),
            ),
            (
                "delete and reorder in one list, reorder in another",
                json!({"mergingList": [{"name": "a", "value": "a"}, {"name": "b", "value": "b"}],
                    "mergeItemPtr": [{"name": "c", "value": "c"}, {"name": "d", "value": "d"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "b"}],
                    "$setElementOrder/mergeItemPtr": [{"name": "d"}, {"name": "c"}],
                    "mergingList": [{"$patch": "delete", "name": "a"}]}),
                json!({"mergingList": [{"name": "b", "value": "b"}],
                    "mergeItemPtr": [{"name": "d", "value": "d"}, {"name": "c", "value": "c"}]}),
            ),
        ]);
    }

    #[test]
    fn raw_three_way_cases_from_patch_test() {
        let order12 = json!([{"name": 1}, {"name": 2}]);
        check(vec![
            (
                "nested patch merge with empty list",
                json!({"name": "hi", "mergingList": [{"name": "hello2"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
                    "mergingList": [{"name": "hello"}]}),
                json!({"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]}),
            ),
            (
                "delete all duplicate items in lists of scalars",
                json!({"mergingIntList": [1, 2, 3, 3, 4]}),
                json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [1, 2, 4]}),
            ),
            (
                "merge lists of maps",
                json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
                json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
                    "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]}),
                json!({"mergingList": [{"name": 4, "value": 4}, {"name": 1, "other": "a"},
                                    {"name": 2, "value": 2, "other": "b"}, {"name": 3, "value": 3}]}),
            ),
            (
                "add field to map in merging list with conflict",
                json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 3, "value": 2, "other": "b"}]}),
                json!({"$setElementOrder/mergingList": order12,
                    "mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}]}),
                json!({"mergingList": [{"name": 1, "value": 1, "other": "a"}, {"name": 2, "value": 2},
                                    {"name": 3, "value": 2, "other": "b"}]}),
            ),
            (
                "delete missing map from merging list with conflict",
                json!({"mergingList": [{"name": 3, "other": "a"}]}),
                json!({"$setElementOrder/mergingList": [{"name": 2}],
                    "mergingList": [{"name": 2}, {"name": 1, "$patch": "delete"}]}),
                json!({"mergingList": [{"name": 2}, {"name": 3, "other": "a"}]}),
            ),
            // These two depend on Go mutating the live list's backing array in place.
            (
                "add map and delete map from merging list",
                json!({"mergingList": [{"name": 1}, {"name": 2, "other": "b"}, {"name": 4, "other": "c"}]}),
                json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
                    "mergingList": [{"name": 3}, {"name": 1, "$patch": "delete"}]}),
                json!({"mergingList": [{"name": 2, "other": "b"}, {"name": 4, "other": "c"}, {"name": 3}]}),
            ),
            (
                "add map and delete map from merging list with conflict",
                json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 4, "other": "c"}]}),
                json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
                    "mergingList": [{"name": 2}, {"name": 3}, {"name": 1, "$patch": "delete"}]}),
                json!({"mergingList": [{"name": 4, "other": "c"}, {"name": 2}, {"name": 3}]}),
            ),
            (
                "replace non merging list nested in merging list with deletion conflict",
                json!({"mergingList": [{"name": 1, "other": "a", "nonMergingList": [{"name": 2, "value": 2}]},
                                    {"name": 2, "other": "b"}]}),
                json!({"$setElementOrder/mergingList": order12,
                    "mergingList": [{"name": 1, "nonMergingList": [{"name": 1, "value": 1}]}]}),
                json!({"mergingList": [{"name": 1, "other": "a", "nonMergingList": [{"name": 1, "value": 1}]},
                                    {"name": 2, "other": "b"}]}),
            ),
            (
                "add field to map in merging list nested in merging list with deletion conflict",
                json!({"mergingList": [{"name": 1, "other": "a", "mergingList": [{"name": 2, "value": 2, "other": "d"}]},
                                    {"name": 2, "other": "b"}]}),
                json!({"$setElementOrder/mergingList": order12,
                    "mergingList": [{"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}], "name": 1,
                                     "mergingList": [{"name": 1, "value": 1}]}]}),
                json!({"mergingList": [{"name": 1, "other": "a",
                                     "mergingList": [{"name": 2, "value": 2, "other": "d"}, {"name": 1, "value": 1}]},
                                    {"name": 2, "other": "b"}]}),
            ),
            (
                "add map to merging list by pointer",
                json!({"mergeItemPtr": [{"name": 1, "other": "a"}, {"name": 3}]}),
                json!({"$setElementOrder/mergeItemPtr": order12, "mergeItemPtr": [{"name": 2}]}),
                json!({"mergeItemPtr": [{"name": 1, "other": "a"}, {"name": 2}, {"name": 3}]}),
            ),
            (
                "add and delete an item in a int list and preserve order",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$setElementOrder/mergingIntList": [4, 2, 1], "mergingIntList": [4],
                    "$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [4, 2, 1]}),
            ),
            (
                "set elements order in a int list with server-only items 2",
                json!({"mergingIntList": [1, 2, 9, 3, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
                json!({"mergingIntList": [2, 1, 9, 4, 3]}),
            ),
            (
                "set elements order in a int list with server-only items 3",
                json!({"mergingIntList": [1, 2, 7, 9, 8, 3, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
                json!({"mergingIntList": [2, 1, 7, 9, 8, 4, 3]}),
            ),
            (
                "replace RawExtension field and merge list",
                json!({"name": "my-object", "mergingList": [{"name": 1}, {"name": 3}],
                    "replacingItem": {"Some": "Generic", "Yaml": "Inside", "The": "RawExtension", "Field": "Period"}}),
                json!({"$setElementOrder/mergingList": order12, "mergingList": [{"name": 2}],
                    "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}}),
                json!({"name": "my-object", "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                    "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}}),
            ),
        ]);
    }

    #[test]
    fn retain_keys_cases_from_patch_test() {
        check(vec![
            (
                "retainKeys map should clear defaulted field",
                json!({"retainKeysMap": {"value": "foo"}}),
                json!({"retainKeysMap": {"$retainKeys": ["other"], "other": "bar"}}),
                json!({"retainKeysMap": {"other": "bar"}}),
            ),
            (
                "retainKeys map deletes a field and clears a field",
                json!({"retainKeysMap": {"name": "foo", "value": "bar", "other": "a"}}),
                json!({"retainKeysMap": {"$retainKeys": ["name"], "value": null}}),
                json!({"retainKeysMap": {"name": "foo"}}),
            ),
            (
                "retainKeys map adds a field in a nested map",
                json!({"retainKeysMap": {"name": "foo", "value": "bar", "simpleMap": {"key1": "a", "key3": "c"}}}),
                json!({"retainKeysMap": {"$retainKeys": ["name", "simpleMap", "value"], "simpleMap": {"key2": "b"}}}),
                json!({"retainKeysMap": {"name": "foo", "value": "bar", "simpleMap": {"key1": "a", "key2": "b", "key3": "c"}}}),
            ),
            (
                "retainKeys map deletes nested non-merging list",
                json!({"retainKeysMap": {"name": "foo", "nonMergingList": [{"name": "a"}, {"name": "b"}]}}),
                json!({"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "bar", "nonMergingList": null}}),
                json!({"retainKeysMap": {"name": "foo", "value": "bar"}}),
            ),
            (
                "retainKeys map adds an item in nested merging int list",
                json!({"retainKeysMap": {"name": "foo", "mergingIntList": [1, 2, 3]}}),
                json!({"retainKeysMap": {"$setElementOrder/mergingIntList": [1, 2, 4],
                                      "$retainKeys": ["mergingIntList", "name"], "mergingIntList": [4]}}),
                json!({"retainKeysMap": {"name": "foo", "mergingIntList": [1, 2, 4, 3]}}),
            ),
            (
                "retainKeys map adds an item and deletes an item in nested merging int list",
                json!({"retainKeysMap": {"name": "foo", "mergingIntList": [1, 2, 3, 4]}}),
                json!({"retainKeysMap": {"$retainKeys": ["mergingIntList", "name"], "mergingIntList": [5],
                                      "$deleteFromPrimitiveList/mergingIntList": [2],
                                      "$setElementOrder/mergingIntList": [1, 3, 5]}}),
                json!({"retainKeysMap": {"name": "foo", "mergingIntList": [1, 3, 5, 4]}}),
            ),
            (
                "retainKeys map deletes an item in nested merging list",
                json!({"retainKeysMap": {"name": "foo", "mergingList": [{"name": "a"}, {"name": "b"}, {"name": "x"}]}}),
                json!({"retainKeysMap": {"$retainKeys": ["mergingList", "name"],
                                      "$setElementOrder/mergingList": [{"name": "a"}],
                                      "mergingList": [{"name": "b", "$patch": "delete"}]}}),
                json!({"retainKeysMap": {"name": "foo", "mergingList": [{"name": "a"}, {"name": "x"}]}}),
            ),
            (
                "retainKeys list of maps clears a field",
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]}),
                json!({"$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
                    "retainKeysMergingList": [{"$retainKeys": ["name", "value"], "name": "foo"}]}),
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
            ),
            (
                "retainKeys list of maps deletes a field and clear a field",
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]}),
                json!({"$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
                    "retainKeysMergingList": [{"$retainKeys": ["name"], "name": "foo", "value": null}]}),
                json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]}),
            ),
        ]);
    }

    #[test]
    fn null_handling_cases_from_patch_test() {
        let base = json!({"array": [1, 2, 3], "complex": {"nested": true}, "name": "foo", "scalar": true});
        let with = |extra: Value| {
            let mut object = base.clone();
            object.as_object_mut().unwrap().insert("complex_nullable".into(), extra);
            object
        };
        check(vec![
            (
                "no diff even if modified null",
                base.clone(),
                json!({"complex_nullable": {"key": null}}),
                with(json!({})),
            ),
            (
                "discard nulls in nested and adds not nulls",
                base.clone(),
                json!({"complex_nullable": {"key": {"keynotnull": "value", "keynull": null}}}),
                with(json!({"key": {"keynotnull": "value"}})),
            ),
            ("add empty slices", base.clone(), json!({"complex_nullable": []}), with(json!([]))),
            (
                "filter nulls from nested slices",
                json!({}),
                json!({"complex_nullable": [{"inner_one": {"key_one": "foo", "key_two": null}}]}),
                json!({"complex_nullable": [{"inner_one": {"key_one": "foo"}}]}),
            ),
            (
                "not filter nulls from non-associative slice",
                json!({}),
                json!({"complex_nullable": ["key1", null, "key2"]}),
                json!({"complex_nullable": ["key1", null, "key2"]}),
            ),
            (
                "null values in original are preserved",
                json!({"thing": null}),
                json!({"nested": {"value": 5}}),
                json!({"nested": {"value": 5}, "thing": null}),
            ),
            (
                "removed only",
                json!({"name": "foo", "scalar": true, "complex": {"nested": true}, "array": [1, 2, 3]}),
                json!({"complex": null, "scalar": null}),
                json!({"array": [1, 2, 3], "name": "foo"}),
            ),
            ("null patch is a no-op", base.clone(), Value::Null, base.clone()),
        ]);
    }

    #[test]
    fn rejects_invalid_patches_with_kube_messages() {
        let err = error(
            json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
            json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}),
        );
        assert_eq!(
            err.to_string(),
            "The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n doesn't match \
             $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n"
        );
        assert_eq!(err.http_code(), 500);
        let err = error(
            json!({"mergingIntList": [1, 3, 2]}),
            json!({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]}),
        );
        assert!(err.to_string().contains("doesn't match"), "{err}");

        let err = error(json!({"mergingList": [{"name": 1, "value": "a"}]}), json!({"mergingList": [{"value": "b"}]}));
        assert_eq!(err.to_string(), "map: map[value:b] does not contain declared merge key: name");
        assert_eq!((err.http_code(), err.status_reason()), (500, ""));

        let err = error(json!({"simpleMap": {"a": "b"}}), json!({"simpleMap": {"$patch": "foo"}}));
        assert_eq!(err.to_string(), "unknown patch type: foo in map: map[$patch:foo]");
        let err = error(json!({}), json!({"$patch": 1, "a": [true, 1.5]}));
        assert_eq!(err.to_string(), "unknown patch type: %!s(int64=1) in map: map[$patch:1 a:[true 1.5]]");
        let list = json!({"mergingList": [{"name": 1}]});
        let err = error(list.clone(), json!({"mergingList": [{"name": 1, "$patch": "merge"}]}));
        assert_eq!(err, StrategicPatchError::MergeDirectiveInList);
        assert_eq!(err.to_string(), "merging lists cannot yet be specified in the patch");
        let err = error(list.clone(), json!({"mergingList": [{"name": 1, "$patch": "bogus"}]}));
        assert_eq!(err.to_string(), "unknown patch type: bogus in map: map[$patch:bogus name:1]");

        let err = error(json!({"other": {"a": 1}}), json!({"$setElementOrder/bogus": []}));
        assert_eq!(err.to_string(), r#"unable to find api field in struct MergeItem for the json field "bogus""#);
        let err = error(json!({"unknown": {"a": 1}}), json!({"unknown": {"b": 1}}));
        assert_eq!(err.to_string(), r#"unable to find api field in struct MergeItem for the json field "unknown""#);
        let err = error(json!({"simpleMap": {"a": {"x": 1}}}), json!({"simpleMap": {"a": {"y": 1}}}));
        assert_eq!(err.to_string(), "merging an object in json but data type is not struct, instead is: map");

        let err = error(json!({"mergingIntList": [[1]]}), json!({"mergingIntList": [[2]]}));
        assert_eq!(err, StrategicPatchError::ListOfLists);
        assert_eq!((err.http_code(), err.status_reason()), (422, "Invalid"));
        assert_eq!(err.status_message(), "the server rejected our request due to an error in our request");
        let err = error(json!({"mergingIntList": [1]}), json!({"mergingIntList": ["a"]}));
        assert_eq!(err.to_string(), "list element types are not identical: [[1] [a]]");
        let err = error(json!({"mergingIntList": [1]}), json!({"mergingIntList": [{"a": 1}]}));
        assert_eq!(err.to_string(), "list element types are not identical: [[1] [map[a:1]]]");
        let err = error(json!({"mergingIntList": [{"a": 1}]}), json!({"mergingIntList": [{"b": 1}]}));
        assert_eq!(err.to_string(), "cannot merge lists without merge key for int");

        for (patch, expected) in [
            (json!({"retainKeysMap": {"$retainKeys": "name"}}), StrategicPatchError::BadRetainKeys),
            (json!({"retainKeysMap": {"$retainKeys": ["name"], "value": "x"}}), StrategicPatchError::BadRetainKeys),
            (json!({"$setElementOrder": []}), StrategicPatchError::BadSetElementOrder),
            (json!({"$deleteFromPrimitiveList": [1]}), StrategicPatchError::BadPrimitiveList),
            (json!({"$deleteFromPrimitiveListX/mergingIntList": [1]}), StrategicPatchError::BadPrimitiveList),
        ] {
            let err = error(json!({"retainKeysMap": {"name": "a"}}), patch);
            assert_eq!((err.http_code(), err.status_reason()), (400, "BadRequest"));
            assert_eq!(err, expected);
        }
        let err = error(json!({}), json!({"$setElementOrder/mergingList": "x"}));
        assert_eq!(err.to_string(), "expected a []interface {}, but received a string");

        let err = apply(&json!({}), &json!([1]), &MERGE_ITEM).unwrap_err();
        assert_eq!(err.to_string(), "json: cannot unmarshal array into Go value of type map[string]interface {}");
        assert_eq!(err.http_code(), 400);
    }

    #[test]
    fn inputs_that_make_kube_panic() {
        let err = error(json!({"mergingList": [{"name": {"a": 1}}]}), json!({"mergingList": [{"name": {"a": 1}}]}));
        assert!(matches!(err, StrategicPatchError::Panic(_)), "{err}");
        assert_eq!(err.http_code(), 500);
        assert_eq!(err.status_message(), "This request caused apiserver to panic. Look in the logs for details.");
        let err = error(json!({"mergingIntList": [null]}), json!({"mergingIntList": [1]}));
        assert!(matches!(err, StrategicPatchError::Panic(_)), "{err}");
    }

    fn kube(group: &str, kind: &str, original: Value, patch: Value) -> Result<Value> {
        apply(&original, &patch, for_kind(group, kind).expect("known kind"))
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                         "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "nginx", "image": "nginx:1.24",
                             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                             "ports": [{"containerPort": 80, "protocol": "TCP"}],
                             "terminationMessagePath": "/dev/termination-log"},
                            {"name": "sidecar", "image": "busybox", "args": ["sleep", "inf"]}
                        ],
                        "volumes": [{"name": "data", "emptyDir": {}}],
                        "tolerations": [{"key": "a", "operator": "Exists"}],
                        "restartPolicy": "Always"
                    }
                }
            },
            "status": {"conditions": [{"type": "Available", "status": "True"},
                                      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
        })
    }

    /// Replaces the value at `path` (slash separated) of `object`.
    fn with(mut object: Value, path: &str, value: Value) -> Value {
        *object.pointer_mut(path).expect("path exists") = value;
        object
    }

    #[test]
    fn kubectl_label_and_annotate() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "p", "labels": {"app": "web", "tier": "fe"}}, "spec": {"containers": []}});
        let patch = json!({"metadata": {"labels": {"tier": null, "env": "prod"}, "annotations": {"note": "x"}}});
        let result = kube("", "Pod", pod.clone(), patch).unwrap();
        assert_eq!(
            result["metadata"],
            json!({"name": "p", "labels": {"app": "web", "env": "prod"}, "annotations": {"note": "x"}})
        );
        assert_eq!(result["spec"], pod["spec"]);
    }

    #[test]
    fn kubectl_scale_and_set_image() {
        let scaled = kube("apps", "Deployment", deployment(), json!({"spec": {"replicas": 5}})).unwrap();
        assert_eq!(scaled, with(deployment(), "/spec/replicas", json!(5)));

        let expected = with(deployment(), "/spec/template/spec/containers/0/image", json!("nginx:1.25"));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}});
        assert_eq!(kube("apps", "Deployment", deployment(), patch).unwrap(), expected);
        // What kubectl set image sends (CreateTwoWayMergePatch): the same, with the order pinned.
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
            "containers": [{"image": "nginx:1.25", "name": "nginx"}]}}}});
        assert_eq!(kube("apps", "Deployment", deployment(), patch).unwrap(), expected);
    }

    #[test]
    fn kubectl_patch_deletes_a_container_and_merges_env() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}});
        let result = kube("apps", "Deployment", deployment(), patch).unwrap();
        let containers = &result["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers, &json!([deployment()["spec"]["template"]["spec"]["containers"][0]]));

        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx",
            "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}, {"name": "A", "$patch": "delete"}]}]}}}});
        let result = kube("apps", "Deployment", deployment(), patch).unwrap();
        assert_eq!(
            result["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "B", "value": "3"}, {"name": "C", "value": "4"}])
        );
        // A new item goes before the live items it has no known order with.
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "env": [{"name": "Z", "value": "9"}]}]}}}});
        let result = kube("apps", "Deployment", deployment(), patch).unwrap();
        assert_eq!(
            result["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "Z", "value": "9"}, {"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn kubectl_apply_three_way_patch() {
        // What kubectl 1.32 client-side apply sends after the manifest changed the replicas,
        // image, strategy type, dropped env B, added port 443 and swapped emptyDir for hostPath.
        let patch = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {
                "replicas": 3,
                "strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"},
                "template": {"spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "$setElementOrder/volumes": [{"name": "data"}],
                    "containers": [{
                        "$setElementOrder/env": [{"name": "A"}],
                        "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 443}],
                        "env": [{"$patch": "delete", "name": "B"}],
                        "image": "nginx:1.25",
                        "name": "nginx",
                        "ports": [{"containerPort": 443, "protocol": "TCP"}]
                    }],
                    "volumes": [{"$retainKeys": ["hostPath", "name"], "emptyDir": null,
                                 "hostPath": {"path": "/tmp/data"}, "name": "data"}]
                }}
            }
        });
        let result = kube("apps", "Deployment", deployment(), patch).unwrap();
        let mut expected = deployment();
        expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json!("{}");
        expected["spec"]["replicas"] = json!(3);
        expected["spec"]["strategy"] = json!({"type": "Recreate"});
        let nginx = &mut expected["spec"]["template"]["spec"]["containers"][0];
        nginx["image"] = json!("nginx:1.25");
        nginx["env"] = json!([{"name": "A", "value": "1"}]);
        nginx["ports"] = json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]);
        expected["spec"]["template"]["spec"]["volumes"] = json!([{"name": "data", "hostPath": {"path": "/tmp/data"}}]);
        assert_eq!(result, expected);
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let object = json!({"metadata": {"name": "x", "finalizers": ["a", "b"]}});
        let added = kube("", "ConfigMap", object.clone(), json!({"metadata": {"finalizers": ["c", "a"]}})).unwrap();
        // kube puts patch items first when the live list gives no order against them.
        assert_eq!(added["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let removed =
            kube("", "ConfigMap", object.clone(), json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}))
                .unwrap();
        assert_eq!(removed["metadata"]["finalizers"], json!(["b"]));
        let generic = apply(&object, &json!({"metadata": {"finalizers": ["c"]}}), metadata_only()).unwrap();
        assert_eq!(generic["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let cleared = kube("", "ConfigMap", object, json!({"metadata": {"finalizers": null}})).unwrap();
        assert_eq!(cleared, json!({"metadata": {"name": "x"}}));
    }

    #[test]
    fn merge_keys_and_replace_lists_of_builtin_kinds() {
        let owners = json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}});
        let result = kube(
            "apps",
            "ReplicaSet",
            owners,
            json!({"metadata": {"ownerReferences": [{"uid": "1", "controller": true}]}}),
        );
        assert_eq!(
            result.unwrap()["metadata"]["ownerReferences"],
            json!([{"uid": "1", "name": "a", "controller": true}])
        );

        let service =
            json!({"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}], "selector": {"app": "a"}}});
        let result = kube(
            "",
            "Service",
            service,
            json!({"spec": {"ports": [{"name": "https", "port": 443}, {"port": 80, "targetPort": 9090}]}}),
        );
        assert_eq!(
            result.unwrap()["spec"]["ports"],
            json!([{"name": "https", "port": 443}, {"name": "http", "port": 80, "targetPort": 9090}])
        );

        let tolerations = json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b"}]}}}});
        let result = kube("apps", "Deployment", deployment(), tolerations).unwrap();
        assert_eq!(result["spec"]["template"]["spec"]["tolerations"], json!([{"key": "b"}]));

        let status = json!({"status": {"conditions": [{"type": "Available", "status": "False"}, {"type": "ReplicaFailure", "status": "True"}]}});
        let result = kube("apps", "Deployment", deployment(), status).unwrap();
        assert_eq!(
            result["status"]["conditions"],
            json!([
            {"type": "Available", "status": "False"},
            {"type": "ReplicaFailure", "status": "True"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}])
        );

        let node = json!({"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}], "podCIDRs": ["10.0.0.0/24"]},
                          "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}});
        let patch = json!({"spec": {"taints": [{"key": "b", "effect": "NoExecute"}], "podCIDRs": ["fd00::/64"]},
                           "status": {"addresses": [{"type": "Hostname", "address": "n1"}]}});
        assert_eq!(
            kube("", "Node", node, patch).unwrap(),
            json!({
            "spec": {"taints": [{"key": "b", "effect": "NoExecute"}], "podCIDRs": ["fd00::/64", "10.0.0.0/24"]},
            "status": {"addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "10.0.0.1"}]}})
        );

        // kubelet replaces node addresses with a `$patch: replace` element.
        let node = json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}});
        let patch = json!({"status": {"addresses": [{"$patch": "replace"},
            {"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": "n1"}]}});
        assert_eq!(
            kube("", "Node", node, patch).unwrap()["status"]["addresses"],
            json!([{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": "n1"}])
        );

        let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a"}]}}}}}});
        let patch = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "b"}]}}}}}});
        assert_eq!(kube("batch", "CronJob", cron, patch.clone()).unwrap(), patch);
    }

    #[test]
    fn directives_on_builtin_kinds() {
        let replace = json!({"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}}}});
        let result = kube("apps", "Deployment", deployment(), replace).unwrap();
        assert_eq!(result["spec"]["template"]["spec"]["containers"], json!([{"name": "only", "image": "x"}]));

        let delete = json!({"spec": {"strategy": {"$patch": "delete"}}});
        assert_eq!(kube("apps", "Deployment", deployment(), delete).unwrap()["spec"]["strategy"], json!({}));

        // A value new to the object loses its nulls and `$patch` maps.
        let patch = json!({"spec": {"template": {"spec": {"securityContext": {"runAsUser": 1, "fsGroup": null,
                                                                              "seLinuxOptions": {"$patch": "replace"}}}}}});
        let result = kube("apps", "Deployment", deployment(), patch).unwrap();
        assert_eq!(result["spec"]["template"]["spec"]["securityContext"], json!({"runAsUser": 1}));
    }

    #[test]
    fn builtin_kinds_reject_bad_patches_like_kube() {
        let err = kube(
            "apps",
            "Deployment",
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "map: map[image:x] does not contain declared merge key: name");
        let err =
            kube("", "Pod", json!({"spec": {}}), json!({"spec": {"$setElementOrder/containerz": [{"name": "a"}]}}))
                .unwrap_err();
        assert_eq!(err.to_string(), r#"unable to find api field in struct PodSpec for the json field "containerz""#);
        assert_eq!(err.http_code(), 500);
    }

    #[test]
    fn go_value_rendering() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5e-7), "-2.5e-07");
        assert_eq!(go_fmt(&json!({"b": [null, false], "a": {"c": 1.0}}), false), "map[a:map[c:1] b:[<nil> false]]");
    }
}
