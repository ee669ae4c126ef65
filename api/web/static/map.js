/* The map of a plan, drawn with Leaflet (vendored, api/web/static/vendor/leaflet) from a
 * JSON payload the page embeds (api/services/plan_map.py builds it; who sees what is decided
 * there, never here). No tile server: the areas' polygons are a static file of the service,
 * on a plain background. CSP-friendly: no inline script, no eval; texts come translated
 * from the page (a JSON block), numbers are put in with textContent.
 *
 * Markup:
 *   <div class="plan-map" data-plan-map data-payload="ID1" data-labels="ID2"
 *        data-static="/static/"></div>
 *   <script type="application/json" id="ID1">{...MapPayload...}</script>
 *   <script type="application/json" id="ID2">{"load": "{placed} of {places} places", ...}</script>
 */
(function () {
  "use strict";

  // The country (metropolitan France, Switzerland), when there is nothing to fit the view to.
  var COUNTRY = { fr: [[41.3, -5.2], [51.1, 9.6]], ch: [[45.8, 5.9], [47.9, 10.5]] };
  var STYLE = {
    area: { color: "#7a8691", weight: 0.8, fillColor: "#ffffff", fillOpacity: 1 },
    excluded: { color: "#7a8691", weight: 0.8, fillColor: "#d9534f", fillOpacity: 0.35 },
    circle: { color: "#b52b27", weight: 2, dashArray: "6 4", fill: false, interactive: false },
    danger: { radius: 5, color: "#b52b27", fillColor: "#b52b27", fillOpacity: 1 }
  };

  function readJSON(id) {
    var el = id && document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function fill(text, params) {
    return String(text).replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : whole;
    });
  }

  // Load as a class, so colours live in the stylesheet (map.css).
  function loadClass(placed, places) {
    if (places <= 0) return "load-none";
    var ratio = placed / places;
    if (ratio >= 1) return "load-full";
    if (ratio >= 0.5) return "load-half";
    return "load-low";
  }

  function shelterMarker(s, labels) {
    var text = fill(labels.load || "{placed}/{places}", s);
    var badge = document.createElement("span");
    badge.className = "shelter-badge " + loadClass(s.placed, s.places);
    badge.textContent = s.placed + "/" + s.places;
    var icon = L.divIcon({ className: "shelter-marker", html: badge, iconSize: null });
    var title = s.id + " \u2014 " + text;
    // Shelters the plan uses above the empty ones (shelters without a location of their own
    // share their département's chef-lieu, and one badge would hide the other).
    return L.marker([s.lat, s.lon], { icon: icon, title: title, alt: title, keyboard: true,
                                      zIndexOffset: s.placed > 0 ? 1000 : 0 })
      .bindTooltip(title);
  }

  function legend(labels) {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend");
      [["legend-danger", labels.danger], ["legend-excluded", labels.excluded],
       ["legend-shelter", labels.shelter]].forEach(function (row) {
        if (!row[1]) return;
        var line = L.DomUtil.create("div", "", box);
        L.DomUtil.create("span", "swatch " + row[0], line);
        line.appendChild(document.createTextNode(row[1]));
      });
      return box;
    };
    return control;
  }

  function drawAreas(map, url, excluded, labels) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        L.geoJSON(geo, {
          interactive: false,
          style: function (f) {
            return excluded.has(f.properties.code) ? STYLE.excluded : STYLE.area;
          }
        }).addTo(map);
        if (labels.source) map.attributionControl.addAttribution(labels.source);
      });
  }

  function drawOverlays(map, data, labels) {
    var bounds = L.latLngBounds([]);
    data.dangers.forEach(function (d) {
      var circle = L.circle([d.lat, d.lon], Object.assign({ radius: d.radius_km * 1000 },
                                                          STYLE.circle)).addTo(map);
      var title = fill(labels.danger_at || "{radius_km} km", d);
      L.circleMarker([d.lat, d.lon], STYLE.danger).bindTooltip(title).addTo(map);
      bounds.extend(circle.getLatLng());
    });
    data.shelters.forEach(function (s) {
      shelterMarker(s, labels).addTo(map);
      bounds.extend([s.lat, s.lon]);
    });
    if (bounds.isValid() && data.shelters.length + data.dangers.length > 1) {
      map.fitBounds(bounds.pad(0.2));
    }
  }

  // The areas first, then what lies on them: once anything is drawn, the whole map is
  // (tests and readers never see the circles without the départements).
  function draw(el) {
    var data = readJSON(el.getAttribute("data-payload"));
    var labels = readJSON(el.getAttribute("data-labels")) || {};
    if (!data) return;
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: true });
    map.attributionControl.setPrefix("Leaflet");
    map.fitBounds(COUNTRY[data.geography] || COUNTRY.fr);
    legend(labels).addTo(map);
    var areas = data.polygons
      ? drawAreas(map, (el.getAttribute("data-static") || "/static/") + data.polygons,
                  new Set(data.excluded_areas), labels)
      : Promise.resolve();
    areas.catch(function () { /* no polygons: the plain background stays */ })
      .then(function () {
        drawOverlays(map, data, labels);
        el.setAttribute("data-ready", "true");
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-plan-map]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
